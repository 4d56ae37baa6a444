"""The AES-256-GCM payload codec and the key ring that feeds it."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from infra.codec import (
    ENCRYPTED_ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    KeyRing,
    codec_from_env,
    generate_key,
)
from taskcraft.errors import CodecConfigError, ConfigError, PayloadDecryptionError

KEY_1 = generate_key()
KEY_2 = generate_key()
SECRET = "the customer's card number is 4111 1111 1111 1111"


def ring(spec: str = f"k1:{KEY_1},k2:{KEY_2}", active: str | None = None) -> KeyRing:
    return KeyRing.parse(spec, active)


def plain_payload(text: str = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode())


async def test_round_trip_through_the_data_converter_restores_values() -> None:
    """Values encoded by a converter with the codec decode back to equal values."""
    converter = dataclasses.replace(DataConverter.default, payload_codec=EncryptionCodec(ring()))
    values = [SECRET, {"amount": 12, "items": ["a", "b"]}, None]

    payloads = await converter.encode(values)

    assert all(p.metadata["encoding"] == ENCRYPTED_ENCODING for p in payloads)
    assert all(SECRET.encode() not in p.data for p in payloads)
    assert await converter.decode(payloads, [str, dict, type(None)]) == values


async def test_encoded_payload_names_the_active_key_and_keeps_original_metadata() -> None:
    """The wrapper carries the key id; the original metadata is inside the ciphertext."""
    codec = EncryptionCodec(ring())
    original = plain_payload()
    original.metadata["custom"] = b"kept"

    [encrypted] = await codec.encode([original])
    [decrypted] = await codec.decode([encrypted])

    assert encrypted.metadata[KEY_ID_METADATA] == b"k1"
    assert set(encrypted.metadata) == {"encoding", KEY_ID_METADATA}
    assert decrypted == original


async def test_same_payload_encrypts_differently_each_time() -> None:
    """A fresh random nonce per payload: equal plaintexts give unequal ciphertexts."""
    codec = EncryptionCodec(ring())

    first, second = await codec.encode([plain_payload(), plain_payload()])

    assert first.data[:12] != second.data[:12]
    assert first.data != second.data


async def test_rotation_keeps_old_payloads_readable_and_uses_the_new_key() -> None:
    """Encrypt with k1, make k2 active: old payloads decode, new ones name k2."""
    before = EncryptionCodec(ring(active="k1"))
    [old] = await before.encode([plain_payload("old")])

    after = EncryptionCodec(before.key_ring.with_active("k2"))
    [new] = await after.encode([plain_payload("new")])

    assert old.metadata[KEY_ID_METADATA] == b"k1"
    assert new.metadata[KEY_ID_METADATA] == b"k2"
    assert await after.decode([old, new]) == [plain_payload("old"), plain_payload("new")]


async def test_payload_with_a_key_missing_from_the_ring_gives_a_clear_error() -> None:
    """Retiring k1 too early: decoding says which key is missing and where to add it."""
    [old] = await EncryptionCodec(ring(active="k1")).encode([plain_payload()])
    without_k1 = EncryptionCodec(KeyRing.parse(f"k2:{KEY_2}"))

    with pytest.raises(PayloadDecryptionError) as caught:
        await without_k1.decode([old])

    assert str(caught.value).startswith(
        "Payload was encrypted with key 'k1', which is not in TASKCRAFT_CODEC_KEYS"
    )
    assert isinstance(caught.value, ConfigError)


async def test_wrong_key_under_the_right_id_fails_authentication() -> None:
    """Same id, different key material: refused, not decoded into garbage."""
    [encrypted] = await EncryptionCodec(ring()).encode([plain_payload()])
    impostor = EncryptionCodec(KeyRing.parse(f"k1:{KEY_2}"))

    with pytest.raises(PayloadDecryptionError, match="'k1' failed authentication"):
        await impostor.decode([encrypted])


@pytest.mark.parametrize("position", [0, 12, -1], ids=["nonce", "ciphertext", "tag"])
async def test_tampered_payload_fails_authentication(position: int) -> None:
    """Flipping one bit anywhere in nonce, ciphertext or tag is detected."""
    codec = EncryptionCodec(ring())
    [encrypted] = await codec.encode([plain_payload()])
    data = bytearray(encrypted.data)
    data[position] ^= 0x01
    encrypted.data = bytes(data)

    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([encrypted])


async def test_relabelled_key_id_fails_authentication() -> None:
    """The key id is associated data: pointing a payload at another key is detected."""
    same_key_twice = KeyRing.parse(f"k1:{KEY_1},k2:{KEY_1}")
    codec = EncryptionCodec(same_key_twice)
    [encrypted] = await codec.encode([plain_payload()])
    encrypted.metadata[KEY_ID_METADATA] = b"k2"

    with pytest.raises(PayloadDecryptionError, match="'k2' failed authentication"):
        await codec.decode([encrypted])


async def test_truncated_payload_is_refused() -> None:
    """Shorter than nonce plus tag: a clear error, not a crypto library exception."""
    codec = EncryptionCodec(ring())
    [encrypted] = await codec.encode([plain_payload()])
    encrypted.data = encrypted.data[:20]

    with pytest.raises(PayloadDecryptionError, match="truncated"):
        await codec.decode([encrypted])


async def test_unencrypted_payloads_pass_through_decode_unchanged() -> None:
    """Histories written before encryption was switched on still read."""
    codec = EncryptionCodec(ring())
    legacy = [plain_payload(), Payload(metadata={"encoding": b"binary/null"})]

    assert await codec.decode(legacy) == legacy


def test_key_ring_repr_does_not_show_key_material() -> None:
    """Logging a key ring (or an object holding one) never prints a key."""
    text = repr(ring()) + repr(EncryptionCodec(ring()).key_ring)

    assert KEY_1 not in text
    assert "k1" in text


def test_generate_key_gives_distinct_32_byte_keys() -> None:
    """Keygen output is base64 of 32 random bytes, accepted by the key ring."""
    first, second = generate_key(), generate_key()

    assert first != second
    assert len(base64.b64decode(first)) == 32
    assert KeyRing.parse(f"new:{first}").active_key_id == "new"


def test_from_env_without_settings_means_encryption_off() -> None:
    assert KeyRing.from_env({}) is None
    assert codec_from_env({"TASKCRAFT_CODEC_KEYS": "  "}) is None


def test_from_env_defaults_the_active_key_to_the_first() -> None:
    key_ring = KeyRing.from_env({"TASKCRAFT_CODEC_KEYS": f"k2:{KEY_2}, k1:{KEY_1}"})

    assert key_ring is not None
    assert key_ring.active_key_id == "k2"
    assert set(key_ring.keys) == {"k1", "k2"}


def test_from_env_honours_the_active_key_variable() -> None:
    key_ring = KeyRing.from_env(
        {"TASKCRAFT_CODEC_KEYS": f"k1:{KEY_1},k2:{KEY_2}", "TASKCRAFT_CODEC_ACTIVE_KEY": "k2"}
    )

    assert key_ring is not None
    assert key_ring.active_key_id == "k2"


@pytest.mark.parametrize(
    ("env", "variable", "detail"),
    [
        ({"TASKCRAFT_CODEC_KEYS": "k1:not*base64"}, "TASKCRAFT_CODEC_KEYS", "not valid base64"),
        (
            {"TASKCRAFT_CODEC_KEYS": "k1:" + base64.b64encode(b"x" * 16).decode()},
            "TASKCRAFT_CODEC_KEYS",
            "16 bytes",
        ),
        ({"TASKCRAFT_CODEC_KEYS": KEY_1}, "TASKCRAFT_CODEC_KEYS", "id:BASE64KEY"),
        ({"TASKCRAFT_CODEC_KEYS": f"k1:{KEY_1},k1:{KEY_2}"}, "TASKCRAFT_CODEC_KEYS", "twice"),
        (
            {"TASKCRAFT_CODEC_KEYS": f"k1:{KEY_1}", "TASKCRAFT_CODEC_ACTIVE_KEY": "k9"},
            "TASKCRAFT_CODEC_ACTIVE_KEY",
            "'k9' is not in TASKCRAFT_CODEC_KEYS",
        ),
        ({"TASKCRAFT_CODEC_ACTIVE_KEY": "k1"}, "TASKCRAFT_CODEC_ACTIVE_KEY", "no keys"),
        (
            {"TASKCRAFT_CODEC_KEYS": f"k1:{KEY_1}", "TASKCRAFT_CODEC_KEY_FILE": "/k.toml"},
            "TASKCRAFT_CODEC_KEY_FILE",
            "not both",
        ),
        (
            {"TASKCRAFT_CODEC_KEY_FILE": "/nonexistent/keys.toml"},
            "TASKCRAFT_CODEC_KEY_FILE",
            "cannot read",
        ),
    ],
    ids=[
        "bad-base64",
        "short-key",
        "no-id",
        "duplicate-id",
        "unknown-active",
        "active-without-keys",
        "both-sources",
        "missing-file",
    ],
)
def test_from_env_bad_settings_name_the_variable(
    env: dict[str, str], variable: str, detail: str
) -> None:
    """Each bad setting is one ConfigError line naming the variable and the problem."""
    with pytest.raises(CodecConfigError) as caught:
        KeyRing.from_env(env)

    message = str(caught.value)
    assert variable in message
    assert detail in message
    assert "\n" not in message
    assert KEY_1[:8] not in message
    assert KEY_2[:8] not in message


def test_key_file_in_toml_with_a_keys_table(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.toml"
    key_file.write_text(f'active_key = "k2"\n[keys]\nk1 = "{KEY_1}"\nk2 = "{KEY_2}"\n')

    key_ring = KeyRing.from_env({"TASKCRAFT_CODEC_KEY_FILE": str(key_file)})

    assert key_ring is not None
    assert key_ring.active_key_id == "k2"
    assert key_ring.keys["k1"] == base64.b64decode(KEY_1)


def test_key_file_in_json_with_the_string_form_and_env_active_override(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    key_file.write_text(json.dumps({"keys": f"k1:{KEY_1},k2:{KEY_2}", "active_key": "k2"}))

    key_ring = KeyRing.from_env(
        {"TASKCRAFT_CODEC_KEY_FILE": str(key_file), "TASKCRAFT_CODEC_ACTIVE_KEY": "k1"}
    )

    assert key_ring is not None
    assert key_ring.active_key_id == "k1"


def test_key_file_errors_name_the_variable_and_the_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.toml"
    key_file.write_text('[keys]\nk1 = "short"\n')

    with pytest.raises(CodecConfigError) as caught:
        KeyRing.from_env({"TASKCRAFT_CODEC_KEY_FILE": str(key_file)})

    assert f"TASKCRAFT_CODEC_KEY_FILE ({key_file})" in str(caught.value)


async def test_missing_key_error_names_the_key_file_when_keys_come_from_one(
    tmp_path: Path,
) -> None:
    """The decryption error points the operator at where the keys actually live."""
    [old] = await EncryptionCodec(ring()).encode([plain_payload()])
    key_file = tmp_path / "keys.json"
    key_file.write_text(json.dumps({"keys": {"k2": KEY_2}}))
    key_ring = KeyRing.from_env({"TASKCRAFT_CODEC_KEY_FILE": str(key_file)})
    assert key_ring is not None

    with pytest.raises(PayloadDecryptionError, match="TASKCRAFT_CODEC_KEY_FILE"):
        await EncryptionCodec(key_ring).decode([old])
