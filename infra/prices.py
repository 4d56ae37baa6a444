"""The per-model price table that cost budgets are computed from (a TOML file)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from taskcraft.budgets import ModelPrice
from taskcraft.errors import ConfigError

SHIPPED_PRICES = Path(__file__).resolve().parent.parent / "taskcraft" / "prices.toml"


def load_prices(path: Path) -> dict[str, ModelPrice]:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"TASKCRAFT_PRICES_FILE: {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    prices: dict[str, ModelPrice] = {}
    for ref, entry in data.items():
        try:
            prices[ref] = ModelPrice.model_validate(entry)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise ConfigError(f"{path}: [{ref}] {where}: {problem['msg']}") from None
    return prices


def prices_from_env(env: Mapping[str, str]) -> dict[str, ModelPrice]:
    configured = env.get("TASKCRAFT_PRICES_FILE")
    return load_prices(Path(configured) if configured else SHIPPED_PRICES)
