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
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, ExternalStorage
from temporalio.envconfig import ClientConfig

from activities.store import BlobStore, FolderStorageDriver
from infra.codec import codec_from_env
from infra.settings import Settings
from taskcraft.errors import ConfigError, TemporalUnavailableError


def data_converter(settings: Settings) -> DataConverter:
    converter = dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec_from_env(settings.env),
        external_storage=ExternalStorage(
            drivers=[FolderStorageDriver(BlobStore(settings.blob_dir))],
            payload_size_threshold=settings.payload_store_threshold,
        ),
    )
    return converter


def connect_config(env: Mapping[str, str]) -> dict[str, Any]:
    try:
        config: dict[str, Any] = dict(
            ClientConfig.load_client_connect_config(
                profile=env.get("TEMPORAL_PROFILE"), override_env_vars=dict(env)
            )
        )
    except Exception as exc:  # the loader raises plain errors for bad files and values
        raise ConfigError(f"Temporal connection settings are invalid: {exc}") from None
    config.setdefault("target_host", "localhost:7233")
    config.setdefault("namespace", "default")
    return config


async def connect(settings: Settings) -> Client:
    config = connect_config(settings.env)
    try:
        return await Client.connect(**config, data_converter=data_converter(settings))
    except RuntimeError as exc:
        target = config["target_host"]
        raise TemporalUnavailableError(
            f"cannot reach the Temporal server at {target} ({str(exc).splitlines()[0][:200]}); "
            "is it running? Start one with `taskcraft dev` or set TEMPORAL_ADDRESS."
        ) from None
