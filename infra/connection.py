"""Connecting to Temporal the same way from the worker, the CLI and the inbox.

The address, namespace, API key and TLS settings come from Temporal's standard
environment configuration (``temporalio.envconfig``: a TOML profile file and the
``TEMPORAL_*`` variables), so one set of commands works against the local dev server,
a self-hosted cluster with mTLS, and Temporal Cloud. The data converter is always the
pydantic one, with the encryption codec when keys are configured and the blob store
taking payloads over the size threshold (claim check).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    ExternalStorage,
)
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime

from activities.store import BlobStorageDriver
from infra.blob_store import open_blob_store
from infra.codec import codec_from_env
from infra.settings import Settings
from taskcraft.errors import ConfigError, TemporalUnavailableError


def data_converter(settings: Settings) -> DataConverter:
    codec = codec_from_env(settings.env)
    converter = dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        # With encryption on, failure messages and stack traces are encrypted too.
        failure_converter_class=(
            DefaultFailureConverterWithEncodedAttributes
            if codec is not None
            else pydantic_data_converter.failure_converter_class
        ),
        external_storage=ExternalStorage(
            drivers=[BlobStorageDriver(open_blob_store(settings))],
            payload_size_threshold=settings.payload_store_threshold,
        ),
    )
    return converter


def connect_config(env: Mapping[str, str]) -> dict[str, Any]:
    """The ``Client.connect`` arguments from envconfig; a bad setting is one clear line."""
    config_file = env.get("TEMPORAL_CONFIG_FILE")
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"TEMPORAL_CONFIG_FILE points at {config_file}, which does not exist")
    try:
        config: dict[str, Any] = dict(
            ClientConfig.load_client_connect_config(
                profile=env.get("TEMPORAL_PROFILE"), override_env_vars=dict(env)
            )
        )
    except Exception as exc:  # the loader raises plain errors for bad files and values
        lines = [line.strip(" |") for line in str(exc).splitlines() if line.strip(" |^")]
        detail = lines[0] if len(lines) < 2 else f"{lines[0]}: {lines[-1]}"
        raise ConfigError(f"Temporal connection settings are invalid: {detail}") from None
    config.setdefault("target_host", "localhost:7233")
    config.setdefault("namespace", "default")
    return config


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    config = connect_config(settings.env)
    try:
        return await Client.connect(
            **config, data_converter=data_converter(settings), runtime=runtime
        )
    except RuntimeError as exc:
        target = config["target_host"]
        raise TemporalUnavailableError(
            f"cannot reach the Temporal server at {target} ({str(exc).splitlines()[0][:200]}); "
            "is it running? Start one with `taskcraft dev` or set TEMPORAL_ADDRESS."
        ) from None
