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
import re
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

from infra.blob_store import open_blob_store
from infra.claim_check import BlobStorageDriver
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


# What the SDK's connection errors mean, most specific first: (needles, cause, what to do).
# The needles are Rust error names and texts from tonic, hyper and rustls.
NO_SERVER_HINT = "is it running? Start one with `taskcraft dev` or set TEMPORAL_ADDRESS"
_CONNECT_FAILURES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("connectionrefused", "connection refused"), "connection refused", NO_SERVER_HINT),
    (
        ("dns error", "failed to lookup address"),
        "DNS lookup failed: no such host",
        "check the host name in TEMPORAL_ADDRESS",
    ),
    (
        ("timeoutexpired", "timeout expired", "timed out", "deadline"),
        "timed out",
        "check TEMPORAL_ADDRESS and that the network lets you reach it",
    ),
    (
        ("invalidcertificate", "unknownissuer", "certificate"),
        "TLS failed: the server's certificate is not trusted",
        "check TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_SERVER_NAME",
    ),
    (
        ("invalidcontenttype", "invalidmessage", "tls", "handshake"),
        "TLS handshake failed: the server does not answer with TLS",
        "TLS is on for this connection (TEMPORAL_TLS or an API key); is it wanted here?",
    ),
    (
        ("unauthenticated", "permissiondenied", "permission denied"),
        "the server refused the credentials",
        "check TEMPORAL_API_KEY or the client certificate",
    ),
    (
        # A web server, or a server that wants TLS, answers the gRPC preface or hangs up.
        (
            "grpc-status header missing",
            "h2 protocol error",
            "http2 error",
            "broken pipe",
            "connection closed",
            "operation was canceled",
            "connection reset",
            "connectionreset",
        ),
        "what answers there does not speak Temporal's gRPC",
        "check the port in TEMPORAL_ADDRESS (the Web UI's port is not the gRPC port), "
        "and set TEMPORAL_TLS=true if the server expects TLS",
    ),
    (
        ("network is unreachable", "no route to host", "hostunreachable", "networkunreachable"),
        "no network route to the host",
        "check TEMPORAL_ADDRESS and the network",
    ),
)
_DETAIL_CHARS = 120


def describe_connect_failure(error_text: str) -> tuple[str, str]:
    """The cause of a failed connection and what to do, from the SDK's error text.

    An error we do not recognise keeps its innermost message, cut at a word.
    """
    lowered = error_text.lower()
    for needles, cause, hint in _CONNECT_FAILURES:
        if any(needle in lowered for needle in needles):
            return cause, hint
    detail = error_text.splitlines()[0] if error_text.strip() else type(error_text).__name__
    quoted = re.findall(r'message: "([^"]+)"', detail)
    detail = (quoted[-1] if quoted else detail.removeprefix("Failed client connect: ")).strip()
    if len(detail) > _DETAIL_CHARS:
        detail = detail[:_DETAIL_CHARS].rsplit(" ", 1)[0] + " …"
    return detail or "unknown error", NO_SERVER_HINT


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    config = connect_config(settings.env)
    try:
        return await Client.connect(
            **config, data_converter=data_converter(settings), runtime=runtime
        )
    except RuntimeError as exc:
        cause, hint = describe_connect_failure(str(exc))
        raise TemporalUnavailableError(
            f"cannot reach the Temporal server at {config['target_host']} ({cause}); {hint}."
        ) from None
