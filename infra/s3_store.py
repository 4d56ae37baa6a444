"""The blob store in an S3-compatible bucket, for workers that share no disk.

Conversations, pinned policies and claim-checked payloads are content-addressed, so
the bucket only ever sees immutable objects under ``<prefix><sha256>``: no listing, no
overwrite races, no consistency subtleties. The client is botocore's (the optional
``taskcraft[aws]`` extra; signing, retries and endpoint handling are never ours), run
in a thread because botocore is synchronous. Credentials come from botocore's own
chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, instance
roles); ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` points it at MinIO, Ceph,
R2 or a test server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

from taskcraft.aws_settings import AwsAccess, first_set
from taskcraft.blobs import BlobStore, blob_ref, check_ref
from taskcraft.errors import BlobMissingError, ConfigError

BLOB_STORE_ENV = "TASKCRAFT_BLOB_STORE"
_NO_BOTOCORE = f"{BLOB_STORE_ENV}=s3://… needs botocore: install taskcraft[aws]"
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """``s3://bucket`` or ``s3://bucket/some/prefix``; anything else is one clear line."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ConfigError(
                f"{BLOB_STORE_ENV} must look like s3://bucket or s3://bucket/prefix, not {url!r}"
            )
        prefix = parts.path.strip("/")
        return cls(bucket=parts.netloc, prefix=f"{prefix}/" if prefix else "")


class S3BlobStore(BlobStore):
    kind = "s3"

    def __init__(self, client: Any, location: S3Location) -> None:
        self._client = client
        self.location = location

    @classmethod
    def from_env(cls, url: str, env: Mapping[str, str]) -> S3BlobStore:
        location = S3Location.parse(url)
        access = AwsAccess.from_env(env)
        if problems := access.problems():
            raise ConfigError(" ".join(problems))
        try:
            botocore = import_module("botocore.session")
            config = import_module("botocore.config").Config(
                s3={"addressing_style": "path"},  # works with every S3-compatible server
                retries={"mode": "standard", "max_attempts": 5},
                max_pool_connections=50,
            )
        except ImportError as exc:
            raise ConfigError(f"{_NO_BOTOCORE}; it is not installed") from exc
        try:
            client = botocore.Session(profile=access.profile or None).create_client(
                "s3",
                region_name=access.region or "us-east-1",
                endpoint_url=first_set(env, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL") or None,
                aws_access_key_id=access.access_key_id or None,
                aws_secret_access_key=access.secret_access_key or None,
                aws_session_token=access.session_token or None,
                config=config,
            )
        except Exception as exc:  # botocore's own errors: an unknown profile, a bad endpoint
            raise ConfigError(f"{BLOB_STORE_ENV}: the S3 client cannot be set up: {exc}") from exc
        return cls(client, location)

    def _key(self, ref: str) -> str:
        return f"{self.location.prefix}{check_ref(ref)}"

    def _put_sync(self, data: bytes) -> str:
        ref = blob_ref(data)
        # Content-addressed: writing an object that is already there changes nothing,
        # so no existence check (one round trip fewer per write).
        self._client.put_object(Bucket=self.location.bucket, Key=self._key(ref), Body=data)
        return ref

    def _get_sync(self, ref: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.location.bucket, Key=self._key(ref))
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in _MISSING:
                raise BlobMissingError(
                    f"blob {ref} is not in s3://{self.location.bucket}/{self.location.prefix}"
                ) from exc
            raise
        body: bytes = response["Body"].read()
        return body

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self._put_sync, data)

    async def get(self, ref: str) -> bytes:
        return await asyncio.to_thread(self._get_sync, ref)
