"""The remote codec server, spoken to the way the Temporal UI speaks to it."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from temporalio.api.common.v1 import Payload

from infra.codec import EncryptionCodec, KeyRing, generate_key
from infra.codec_server import CodecServerSettings, build_codec_app
from taskcraft.errors import ConfigError

UI_ORIGIN = "http://localhost:8080"
TOKEN = "s3cret-token"
SECRET = '{"prompt":"summarise the merger memo"}'


class CountingCodec(EncryptionCodec):
    """The real codec, counting calls so a refused request provably did no work."""

    calls = 0

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.calls += 1
        return await super().encode(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.calls += 1
        return await super().decode(payloads)


def ui_payloads(*texts: str) -> dict[str, Any]:
    """A Payloads message as the UI sends it: proto3 JSON, bytes in base64."""
    return {
        "payloads": [
            {
                "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                "data": base64.b64encode(text.encode()).decode(),
            }
            for text in texts
        ]
    }


@pytest.fixture
def codec() -> CountingCodec:
    return CountingCodec(KeyRing.parse(f"k1:{generate_key()}"))


def client_for(codec: EncryptionCodec, token: str | None = None) -> httpx.AsyncClient:
    app = build_codec_app(codec, token=token, cors_origins=[UI_ORIGIN])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://codec")


@pytest.fixture
async def client(codec: CountingCodec) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(codec) as c:
        yield c


@pytest.fixture
async def token_client(codec: CountingCodec) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(codec, token=TOKEN) as c:
        yield c


def ui_headers(**extra: str) -> dict[str, str]:
    return {"Origin": UI_ORIGIN, "X-Namespace": "default", **extra}


async def test_encode_then_decode_round_trips_in_the_ui_json_form(
    client: httpx.AsyncClient,
) -> None:
    """/encode hides the data, /decode restores exactly what was sent."""
    sent = ui_payloads(SECRET, "42")

    encoded = await client.post("/encode", json=sent, headers=ui_headers())
    decoded = await client.post("/decode", json=encoded.json(), headers=ui_headers())

    assert encoded.status_code == 200
    assert encoded.headers["content-type"] == "application/json"
    encrypted = encoded.json()["payloads"]
    assert len(encrypted) == 2
    assert base64.b64decode(encrypted[0]["metadata"]["encoding"]) == b"binary/encrypted"
    assert base64.b64decode(encrypted[0]["metadata"]["encryption-key-id"]) == b"k1"
    assert SECRET.encode() not in base64.b64decode(encrypted[0]["data"])
    assert decoded.status_code == 200
    assert decoded.json() == sent
    assert decoded.headers["access-control-allow-origin"] == UI_ORIGIN
    assert decoded.headers["access-control-allow-credentials"] == "true"


async def test_only_the_last_path_segment_selects_the_operation(
    client: httpx.AsyncClient,
) -> None:
    """The codec protocol lets the server be mounted under a prefix such as a namespace."""
    encoded = await client.post("/default/encode", json=ui_payloads(SECRET))
    decoded = await client.post("/some/prefix/decode", json=encoded.json())

    assert decoded.json() == ui_payloads(SECRET)


async def test_decode_passes_unencrypted_payloads_through(client: httpx.AsyncClient) -> None:
    """Payloads from before encryption was switched on show as they are."""
    response = await client.post("/decode", json=ui_payloads(SECRET))

    assert response.json() == ui_payloads(SECRET)


async def test_payload_under_an_unknown_key_gets_422_with_the_reason(
    client: httpx.AsyncClient,
) -> None:
    other = EncryptionCodec(KeyRing.parse(f"old:{generate_key()}"))
    async with client_for(other) as other_client:
        foreign = (await other_client.post("/encode", json=ui_payloads(SECRET))).json()

    response = await client.post("/decode", json=foreign)

    assert response.status_code == 422
    assert "key 'old', which is not in TASKCRAFT_CODEC_KEYS" in response.json()["error"]


async def test_body_that_is_not_payloads_json_gets_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/decode", content=b'{"payloads": 7}')

    assert response.status_code == 400


async def test_preflight_from_the_ui_origin_allows_the_ui_headers(
    client: httpx.AsyncClient,
) -> None:
    """The browser's OPTIONS preflight for the UI origin gets the headers it needs."""
    response = await client.options(
        "/decode",
        headers={
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == UI_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"content-type", "x-namespace", "authorization"} <= allowed


async def test_preflight_from_another_origin_is_not_allowed(client: httpx.AsyncClient) -> None:
    """Another website gets no Access-Control-Allow-Origin, so the browser blocks it."""
    response = await client.options(
        "/decode",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_actual_request_from_another_origin_gets_no_cors_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/decode", json=ui_payloads(SECRET), headers={"Origin": "https://evil.example"}
    )

    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
    ids=["missing", "wrong", "no-scheme", "wrong-scheme", "longer"],
)
@pytest.mark.parametrize("path", ["/encode", "/decode"])
async def test_request_without_the_right_token_gets_401_and_does_nothing(
    token_client: httpx.AsyncClient, codec: CountingCodec, path: str, authorization: str | None
) -> None:
    headers = ui_headers() if authorization is None else ui_headers(Authorization=authorization)

    response = await token_client.post(path, json=ui_payloads(SECRET), headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert codec.calls == 0
    # The UI can read the refusal rather than seeing an opaque CORS failure.
    assert response.headers["access-control-allow-origin"] == UI_ORIGIN


async def test_request_with_the_right_token_is_served(
    token_client: httpx.AsyncClient, codec: CountingCodec
) -> None:
    response = await token_client.post(
        "/encode", json=ui_payloads(SECRET), headers=ui_headers(Authorization=f"Bearer {TOKEN}")
    )

    assert response.status_code == 200
    assert codec.calls == 1


async def test_preflight_and_health_need_no_token(token_client: httpx.AsyncClient) -> None:
    """Browsers never send credentials on a preflight; health checks carry none either."""
    preflight = await token_client.options(
        "/decode",
        headers={"Origin": UI_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    health = await token_client.get("/health")

    assert preflight.status_code == 200
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}


def test_wildcard_origin_is_refused(codec: CountingCodec) -> None:
    """With credentials allowed, '*' would let any website decrypt payloads."""
    with pytest.raises(ConfigError, match="TASKCRAFT_CODEC_CORS_ORIGINS"):
        build_codec_app(codec, token=None, cors_origins=["*"])


def test_settings_from_env() -> None:
    settings = CodecServerSettings.from_env(
        {
            "TASKCRAFT_CODEC_SERVER_TOKEN": TOKEN,
            "TASKCRAFT_CODEC_CORS_ORIGINS": "https://ui.example.com/, http://localhost:8080",
        }
    )

    assert settings.token == TOKEN
    assert settings.cors_origins == ["https://ui.example.com", "http://localhost:8080"]
    assert TOKEN not in repr(settings)
    assert CodecServerSettings.from_env({}).token is None
    assert UI_ORIGIN in CodecServerSettings.from_env({}).cors_origins


def test_ui_payloads_helper_matches_the_proto3_json_form() -> None:
    """Guard for the helper above: bytes fields are base64 strings in proto3 JSON."""
    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payloads

    parsed = json_format.Parse(json.dumps(ui_payloads("x")), Payloads())

    assert parsed.payloads[0].data == b"x"
    assert parsed.payloads[0].metadata["encoding"] == b"json/plain"
