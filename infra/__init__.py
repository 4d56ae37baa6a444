"""Wiring shared by the worker, the CLI and the servers: settings, connection, codec."""

from infra.codec import EncryptionCodec, KeyRing, codec_from_env
from infra.connection import connect, connect_config, data_converter
from infra.settings import Settings

__all__ = [
    "EncryptionCodec",
    "KeyRing",
    "Settings",
    "codec_from_env",
    "connect",
    "connect_config",
    "data_converter",
]
