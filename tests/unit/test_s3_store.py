"""The blob store in an S3-compatible bucket, against a loopback S3 server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import StorageDriverRetrieveContext, StorageDriverStoreContext

from activities.conversations import ConversationStore
from infra.blob_store import open_blob_store
from infra.claim_check import BlobStorageDriver
from infra.connection import data_converter
from infra.s3_store import BLOB_STORE_ENV, S3BlobStore, S3Location
from infra.settings import Settings
from taskcraft.errors import BlobMissingError, ConfigError
from taskcraft.messages import Message
from tests.support.s3_server import S3Bucket, create_bucket, s3_server


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint: str) -> S3Bucket:
    return create_bucket(s3_endpoint)


def store_for(bucket: S3Bucket, prefix: str = "taskcraft") -> S3BlobStore:
    env = bucket.env(prefix)
    return S3BlobStore.from_env(env[BLOB_STORE_ENV], env)


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://runs", "runs", ""),
        ("s3://runs/", "runs", ""),
        ("s3://runs/team-a/taskcraft/", "runs", "team-a/taskcraft/"),
    ],
)
def test_location_parses_bucket_and_prefix(url: str, bucket: str, prefix: str) -> None:
    assert S3Location.parse(url) == S3Location(bucket=bucket, prefix=prefix)


@pytest.mark.parametrize("url", ["runs", "https://runs/x", "s3:///x", "s3://runs/x?versioning=1"])
def test_a_malformed_location_is_one_clear_line(url: str) -> None:
    with pytest.raises(ConfigError, match="TASKCRAFT_BLOB_STORE must look like s3://bucket"):
        open_blob_store(Settings(env={BLOB_STORE_ENV: url}))


async def test_blobs_are_stored_under_their_hash_below_the_prefix(bucket: S3Bucket) -> None:
    store = store_for(bucket, "team-a")
    ref = await store.put(b"hello")
    assert await store.put(b"hello") == ref  # a second write of the same content is harmless
    assert await store.get(ref) == b"hello"
    assert sorted(bucket.sizes()) == [f"team-a/{ref}"]


async def test_a_missing_blob_says_where_it_looked(bucket: S3Bucket) -> None:
    store = store_for(bucket)
    with pytest.raises(BlobMissingError, match=f"not in s3://{bucket.bucket}/taskcraft/"):
        await store.get("0" * 64)
    with pytest.raises(BlobMissingError, match="is not a blob reference"):
        await store.get("../../etc/passwd")


async def test_another_worker_reads_the_conversation_from_the_bucket(bucket: S3Bucket) -> None:
    """Workers share no disk: a turn written by one is read whole by another."""
    first = ConversationStore(store_for(bucket))
    ref = await first.append(None, [Message.system("sys"), Message.user("hi")])
    ref = await first.append(ref, [Message.user("again")])
    other = ConversationStore(store_for(bucket))
    assert [m.content for m in await other.load(ref)] == ["sys", "hi", "again"]


async def test_claim_check_in_the_bucket_names_its_store(bucket: S3Bucket) -> None:
    driver = BlobStorageDriver(store_for(bucket))
    payloads = [Payload(metadata={"encoding": b"binary/plain"}, data=b"x" * 10)]
    claims = await driver.store(StorageDriverStoreContext(), payloads)
    assert driver.name() == "taskcraft-s3"
    assert await driver.retrieve(StorageDriverRetrieveContext(), claims) == payloads


async def test_converter_with_the_bucket_keeps_large_payloads_out_of_history(
    bucket: S3Bucket,
) -> None:
    converter = data_converter(Settings(env=bucket.env(), payload_store_threshold=1024))
    large = "y" * 5000
    encoded = await converter.encode([large])
    assert encoded[0].external_payloads[0].size_bytes > 5000
    assert encoded[0].ByteSize() < 1024
    assert len(bucket.sizes()) == 1
    # A CLI with the same settings (another process, say) reads it back.
    again = data_converter(Settings(env=bucket.env(), payload_store_threshold=1024))
    assert await again.decode(encoded, [str]) == [large]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"AWS_ACCESS_KEY_ID": "AKIA1"}, "AWS_SECRET_ACCESS_KEY is not set; AWS access keys come"),
        ({"AWS_PROFILE": "no-such-profile"}, "the S3 client cannot be set up: .*no-such-profile"),
    ],
)
def test_bad_aws_settings_are_one_clear_line(extra: dict[str, str], message: str) -> None:
    env = {BLOB_STORE_ENV: "s3://runs", **extra}
    with pytest.raises(ConfigError, match=message):
        open_blob_store(Settings(env=env))
