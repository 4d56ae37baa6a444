"""The remote codec endpoints the Temporal UI and CLI call to show encrypted payloads.

    POST .../encode   {"payloads": [...]} -> {"payloads": [...]}   (proto3 JSON of Payloads)
    POST .../decode   {"payloads": [...]} -> {"payloads": [...]}
    GET  /health      {"status": "ok"}    (no token needed; reveals nothing)

Only the last path segment selects the operation, as the codec protocol asks, so the
server can be mounted under a prefix (``/default/decode``). The UI sends ``Content-Type``
and ``X-Namespace``, plus ``Authorization`` when it passes an access token; the allowed
browser origins are listed explicitly and credentials are allowed.

Environment (read by ``serve_codec_server``):
    TASKCRAFT_CODEC_SERVER_TOKEN   bearer token every encode/decode request must carry
    TASKCRAFT_CODEC_CORS_ORIGINS   comma-separated UI origins (default: the local UI's)
    plus the key settings of ``infra.codec``.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import uvicorn
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from infra.codec import KEY_FILE_VAR, KEYS_VAR, codec_from_env
from taskcraft.errors import ConfigError, PayloadDecryptionError

TOKEN_VAR = "TASKCRAFT_CODEC_SERVER_TOKEN"
CORS_ORIGINS_VAR = "TASKCRAFT_CODEC_CORS_ORIGINS"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
# The compose UI on 8080 and the dev server's UI on 8233.
DEFAULT_CORS_ORIGINS = (
    "http://localhost:8080",
    "http://127.0.0.1:8080",
    "http://localhost:8233",
    "http://127.0.0.1:8233",
)
# What the UI's codec client sends (Authorization-Extras carries the OIDC id token).
ALLOWED_REQUEST_HEADERS = ("Content-Type", "X-Namespace", "Authorization", "Authorization-Extras")
PREFLIGHT_MAX_AGE_SECONDS = 600
# The server refuses payloads over 2 MiB; a page of them fits comfortably in this.
MAX_BODY_BYTES = 64 * 1024 * 1024

_CodecOperation = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


@dataclass(frozen=True)
class CodecServerSettings:
    token: str | None = field(default=None, repr=False)
    cors_origins: list[str] = field(default_factory=lambda: list(DEFAULT_CORS_ORIGINS))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CodecServerSettings:
        token = env.get(TOKEN_VAR, "").strip() or None
        raw_origins = env.get(CORS_ORIGINS_VAR, "").strip()
        if not raw_origins:
            return cls(token=token)
        origins = [origin.strip().rstrip("/") for origin in raw_origins.split(",")]
        return cls(token=token, cors_origins=[origin for origin in origins if origin])


def build_codec_app(
    codec: PayloadCodec, *, token: str | None, cors_origins: list[str]
) -> Starlette:
    """The codec server as an ASGI app; without the right bearer token, 401 and no work."""
    if "*" in cors_origins:
        raise ConfigError(
            f"{CORS_ORIGINS_VAR}: list the UI's origins explicitly; '*' would let any "
            "website ask this server to decrypt payloads."
        )
    expected_authorization = f"Bearer {token}".encode() if token else None

    def authorized(request: Request) -> bool:
        if expected_authorization is None:
            return True
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, expected_authorization)

    async def apply(request: Request, operation: _CodecOperation) -> Response:
        if not authorized(request):
            return JSONResponse(
                {"error": "Missing or wrong bearer token."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        declared_length = request.headers.get("content-length", "0")
        if declared_length.isdigit() and int(declared_length) > MAX_BODY_BYTES:
            return JSONResponse({"error": "Request body too large."}, status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "Request body too large."}, status_code=413)
        try:
            payloads = json_format.Parse(body, Payloads())
        except json_format.ParseError as err:
            return JSONResponse(
                {"error": f"Body is not a Payloads message in proto3 JSON: {err}"},
                status_code=400,
            )
        try:
            converted = await operation(payloads.payloads)
        except PayloadDecryptionError as err:
            return JSONResponse({"error": str(err)}, status_code=422)
        return Response(
            json_format.MessageToJson(Payloads(payloads=converted)),
            media_type="application/json",
        )

    async def encode(request: Request) -> Response:
        return await apply(request, codec.encode)

    async def decode(request: Request) -> Response:
        return await apply(request, codec.decode)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/encode", encode, methods=["POST"]),
        Route("/decode", decode, methods=["POST"]),
        Route("/{prefix:path}/encode", encode, methods=["POST"]),
        Route("/{prefix:path}/decode", decode, methods=["POST"]),
    ]
    cors = Middleware(
        CORSMiddleware,
        allow_origins=cors_origins,
        allow_methods=["POST"],
        allow_headers=list(ALLOWED_REQUEST_HEADERS),
        allow_credentials=True,
        # A UI on an intranet host calling a codec server on localhost asks for this.
        allow_private_network=True,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
    return Starlette(routes=routes, middleware=[cors])


def serve_codec_server(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    env: Mapping[str, str] | None = None,
    codec: PayloadCodec | None = None,
    settings: CodecServerSettings | None = None,
) -> None:
    """Run the codec server until interrupted; keys and token come from ``env``."""
    env = os.environ if env is None else env
    if codec is None:
        codec = codec_from_env(env)
    if codec is None:
        raise ConfigError(
            f"The codec server needs the encryption keys: set {KEYS_VAR} or {KEY_FILE_VAR}."
        )
    settings = settings or CodecServerSettings.from_env(env)
    app = build_codec_app(codec, token=settings.token, cors_origins=settings.cors_origins)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
