"""A loopback S3 server (moto's, speaking the real S3 wire API) with one empty bucket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from infra.s3_store import BLOB_STORE_ENV


@dataclass(frozen=True)
class S3Bucket:
    endpoint_url: str
    bucket: str

    def sizes(self) -> dict[str, int]:
        """Every object in the bucket: key → size in bytes."""
        listing = _client(self.endpoint_url).list_objects_v2(Bucket=self.bucket)
        return {item["Key"]: item["Size"] for item in listing.get("Contents", [])}

    def env(self, prefix: str = "taskcraft") -> dict[str, str]:
        """What a worker or CLI needs in its environment to use this bucket."""
        return {
            BLOB_STORE_ENV: f"s3://{self.bucket}/{prefix}",
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
        }


@contextmanager
def s3_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _client(endpoint_url: str) -> Any:
    """boto3 for the test's own look at the bucket; the store under test uses botocore."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create_bucket(endpoint_url: str) -> S3Bucket:
    bucket = f"taskcraft-{uuid.uuid4().hex[:8]}"
    _client(endpoint_url).create_bucket(Bucket=bucket)
    return S3Bucket(endpoint_url=endpoint_url, bucket=bucket)
