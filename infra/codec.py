"""AES-256-GCM payload encryption for everything Taskcraft stores in Temporal.

Each payload becomes a new payload whose data is ``nonce || ciphertext`` of the serialized
original ``Payload`` proto, with metadata ``encoding: binary/encrypted`` and
``encryption-key-id: <id>``. The key id is bound as associated data, so a payload cannot be
re-labelled with another key id without failing authentication.

Keys never enter history: they come from the worker's environment or a key file. A key ring
holds several keys so they can be rotated: new payloads use the active key, and old ones
decode with whichever key id they name. Payloads that are not encrypted (histories written
before encryption was switched on) pass through ``decode`` unchanged.

Environment:
    TASKCRAFT_CODEC_KEYS        ``id1:BASE64KEY,id2:BASE64KEY`` (32-byte keys)
    TASKCRAFT_CODEC_ACTIVE_KEY  id of the key new payloads use (default: the first listed)
    TASKCRAFT_CODEC_KEY_FILE    a ``.toml`` or ``.json`` file instead of TASKCRAFT_CODEC_KEYS:
                                ``keys`` (a table of id -> key, or the same string form)
                                and optionally ``active_key``
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from taskcraft.errors import CodecConfigError, PayloadDecryptionError

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEYS_VAR = "TASKCRAFT_CODEC_KEYS"
ACTIVE_KEY_VAR = "TASKCRAFT_CODEC_ACTIVE_KEY"
KEY_FILE_VAR = "TASKCRAFT_CODEC_KEY_FILE"

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96-bit nonce, the size GCM is designed for
TAG_BYTES = 16
# Versioned so a future format change cannot be confused with this one.
_ASSOCIATED_DATA_PREFIX = b"taskcraft-codec-v1:"
_KEYGEN_HINT = "generate one with `taskcraft codec keygen`"


def generate_key() -> str:
    """A new random 256-bit key, base64-encoded for TASKCRAFT_CODEC_KEYS."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True, repr=False)
class KeyRing:
    """Named AES-256 keys; ``active_key_id`` encrypts, any of them decrypts."""

    keys: Mapping[str, bytes]
    active_key_id: str
    source: str = KEYS_VAR  # named in errors, so the operator knows where to add a key

    def __post_init__(self) -> None:
        if not self.keys:
            raise CodecConfigError(f"{self.source}: the key ring is empty; {_KEYGEN_HINT}.")
        for key_id, key in self.keys.items():
            _check_key_id(key_id, self.source)
            if len(key) != KEY_BYTES:
                raise CodecConfigError(
                    f"{self.source}: key {key_id!r} is {len(key)} bytes; AES-256 needs "
                    f"{KEY_BYTES}. {_KEYGEN_HINT.capitalize()}."
                )
        if self.active_key_id not in self.keys:
            raise CodecConfigError(
                f"{ACTIVE_KEY_VAR}: active key {self.active_key_id!r} is not in {self.source} "
                f"(known ids: {', '.join(sorted(self.keys))})."
            )

    def __repr__(self) -> str:  # never show key material
        return f"KeyRing(ids={sorted(self.keys)!r}, active_key_id={self.active_key_id!r})"

    def with_active(self, key_id: str) -> KeyRing:
        """The same keys with another active key (the second step of a rotation)."""
        return KeyRing(keys=self.keys, active_key_id=key_id, source=self.source)

    @classmethod
    def parse(
        cls, spec: str, active_key_id: str | None = None, *, source: str = KEYS_VAR
    ) -> KeyRing:
        """Parse ``id1:BASE64KEY,id2:BASE64KEY``; ``source`` is named in errors."""
        keys: dict[str, bytes] = {}
        for position, entry in enumerate(spec.split(","), start=1):
            entry = entry.strip()
            if not entry:
                continue
            key_id, sep, encoded = entry.partition(":")
            if not sep:  # the entry may be a bare key: never echo it
                raise CodecConfigError(
                    f"{source}: entry {position} is not in the form id:BASE64KEY."
                )
            key_id = key_id.strip()
            _add_key(keys, key_id, encoded.strip(), source)
        if not keys:
            raise CodecConfigError(f"{source}: no keys given; expected id:BASE64KEY,...")
        return cls(keys=keys, active_key_id=active_key_id or next(iter(keys)), source=source)

    @classmethod
    def from_file(cls, path: Path, active_key_id: str | None = None) -> KeyRing:
        """Load ``keys`` and ``active_key`` from a ``.toml`` or ``.json`` key file."""
        source = f"{KEY_FILE_VAR} ({path})"
        data = _read_key_file(path, source)
        raw_keys = data.get("keys")
        file_active = data.get("active_key")
        if file_active is not None and not isinstance(file_active, str):
            raise CodecConfigError(f"{source}: active_key must be a string.")
        active = active_key_id or file_active
        if isinstance(raw_keys, str):
            return cls.parse(raw_keys, active, source=source)
        if not isinstance(raw_keys, dict) or not raw_keys:
            raise CodecConfigError(
                f"{source}: expected a non-empty 'keys' table of id = base64 key."
            )
        keys: dict[str, bytes] = {}
        for key_id, encoded in raw_keys.items():
            if not isinstance(encoded, str):
                raise CodecConfigError(f"{source}: key {key_id!r} must be a base64 string.")
            _add_key(keys, str(key_id), encoded.strip(), source)
        return cls(keys=keys, active_key_id=active or next(iter(keys)), source=source)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KeyRing | None:
        """The key ring the environment configures, or None when encryption is off."""
        spec = env.get(KEYS_VAR, "").strip()
        key_file = env.get(KEY_FILE_VAR, "").strip()
        active = env.get(ACTIVE_KEY_VAR, "").strip() or None
        if spec and key_file:
            raise CodecConfigError(f"Set either {KEYS_VAR} or {KEY_FILE_VAR}, not both.")
        if spec:
            return cls.parse(spec, active)
        if key_file:
            return cls.from_file(Path(key_file), active)
        if active:
            raise CodecConfigError(
                f"{ACTIVE_KEY_VAR} is set but there are no keys; set {KEYS_VAR} or {KEY_FILE_VAR}."
            )
        return None


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload with the ring's active key; decrypts by the key id it names."""

    def __init__(self, key_ring: KeyRing) -> None:
        self._key_ring = key_ring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in key_ring.keys.items()}

    @property
    def key_ring(self) -> KeyRing:
        return self._key_ring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key_id = self._key_ring.active_key_id
        cipher = self._ciphers[key_id]
        encoded: list[Payload] = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            ciphertext = cipher.encrypt(
                nonce, payload.SerializeToString(), _associated_data(key_id)
            )
            encoded.append(
                Payload(
                    metadata={
                        "encoding": ENCRYPTED_ENCODING,
                        KEY_ID_METADATA: key_id.encode("utf-8"),
                    },
                    data=nonce + ciphertext,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decode_one(payload) for payload in payloads]

    def _decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
            return payload
        raw_key_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_key_id is None:
            raise PayloadDecryptionError(
                f"An encrypted payload has no {KEY_ID_METADATA!r} metadata, so its key is unknown."
            )
        key_id = raw_key_id.decode("utf-8", errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"Payload was encrypted with key {key_id!r}, which is not in "
                f"{self._key_ring.source}; add that key back to the key ring to read it."
            )
        if len(payload.data) < NONCE_BYTES + TAG_BYTES:
            raise PayloadDecryptionError(
                f"Payload encrypted with key {key_id!r} is truncated "
                f"({len(payload.data)} bytes); it was altered in storage or transit."
            )
        nonce, ciphertext = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plaintext = cipher.decrypt(nonce, ciphertext, _associated_data(key_id))
        except InvalidTag:
            raise PayloadDecryptionError(
                f"Payload encrypted with key {key_id!r} failed authentication: either the "
                f"data was altered, or the key named {key_id!r} in {self._key_ring.source} "
                "is not the key it was encrypted with."
            ) from None
        return Payload.FromString(plaintext)


def codec_from_env(env: Mapping[str, str]) -> EncryptionCodec | None:
    """The codec the environment configures, or None when encryption is off."""
    key_ring = KeyRing.from_env(env)
    return EncryptionCodec(key_ring) if key_ring is not None else None


def _associated_data(key_id: str) -> bytes:
    return _ASSOCIATED_DATA_PREFIX + key_id.encode("utf-8")


def _check_key_id(key_id: str, source: str) -> None:
    if not key_id or any(ch in key_id for ch in ":, \t\n") or not key_id.isprintable():
        raise CodecConfigError(
            f"{source}: key id {key_id!r} must be non-empty, printable, and contain no "
            "spaces, ':' or ','."
        )


def _add_key(keys: dict[str, bytes], key_id: str, encoded: str, source: str) -> None:
    _check_key_id(key_id, source)
    if key_id in keys:
        raise CodecConfigError(f"{source}: key id {key_id!r} appears twice.")
    try:
        keys[key_id] = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CodecConfigError(
            f"{source}: key {key_id!r} is not valid base64; {_KEYGEN_HINT}."
        ) from None


def _read_key_file(path: Path, source: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise CodecConfigError(f"{source}: cannot read the key file: {err.strerror}.") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data: object = json.loads(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise CodecConfigError(f"{source}: the key file must end in .toml or .json.")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
        raise CodecConfigError(f"{source}: the key file does not parse: {err}.") from None
    if not isinstance(data, dict):
        raise CodecConfigError(f"{source}: the key file must hold a table with 'keys'.")
    return data
