"""What a worker says at start about problems that would otherwise surface mid-task.

A policy file that does not load, in a folder the worker searches, would fail every task
that names it; a model route naming a provider this worker has no key for would send
every call into failover or RECOVERING. The catalog already refuses agents whose own
policy does not load; these are the warnings for the rest, one line each, naming the
file or the variable to set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from activities.models.settings import ProviderSettings
from infra.catalog import Catalog
from taskcraft.errors import PolicyFileError
from taskcraft.model_ref import ModelRef
from taskcraft.policy.loader import load_policy

# The variable a provider's calls need on the worker.
PROVIDER_KEYS = {"openai": "OPENAI_API_KEY (or OPENAI_BASE_URL)", "anthropic": "ANTHROPIC_API_KEY"}


def policy_warnings(folders: Iterable[tuple[Path, str]]) -> list[str]:
    """Every policy file that does not load, with where it was found (``TASKCRAFT_...``)."""
    found = []
    for folder, setting in folders:
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            try:
                load_policy(path, search_dirs=[folder])
            except PolicyFileError as error:
                first = str(error).splitlines()[0]
                found.append(f"{first} (a policy in {setting}; tasks that name it will fail)")
    return found


def route_warnings(
    catalog: Catalog, default_route: Sequence[ModelRef], env: Mapping[str, str]
) -> list[str]:
    """Model references whose provider this worker cannot call, and who uses them."""
    providers = ProviderSettings.from_env(env)
    users: dict[str, list[str]] = {}
    for agent in catalog.agents.values():
        refs = agent.model_route or default_route
        for ref in [*refs, *(r for step in agent.step_routes for r in step.route)]:
            users.setdefault(ref.ref, []).append(agent.name)
    found = []
    for ref_text, agents in sorted(users.items()):
        ref = ModelRef(ref=ref_text)
        if ref.is_offline or providers.configured(ref.provider):
            continue
        names = ", ".join(sorted(set(agents)))
        found.append(
            f"{ref.ref} (used by {names}) cannot be called from this worker: set "
            f"{PROVIDER_KEYS.get(ref.provider, ref.provider)}; until then its calls fail over "
            "or wait in RECOVERING"
        )
    return found
