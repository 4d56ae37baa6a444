"""The blob store, the conversation chain on it, and the claim check that uses it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import StorageDriverRetrieveContext, StorageDriverStoreContext

from activities.conversations import ConversationStore
from infra.claim_check import BlobStorageDriver
from infra.connection import data_converter
from infra.folder_store import FolderBlobStore
from infra.settings import Settings
from taskcraft.errors import BlobMissingError
from taskcraft.messages import Message, Role, ToolCall


class CountingBlobStore(FolderBlobStore):
    """Counts reads, to tell a cache hit from a walk of the chain."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads = 0

    def get_sync(self, ref: str) -> bytes:
        self.reads += 1
        return super().get_sync(ref)


def files_in(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def turn(n: int) -> list[Message]:
    call = ToolCall(id=f"c{n}", name="noop", arguments=json.dumps({"i": n}))
    return [
        Message(role=Role.ASSISTANT, content=f"step {n}", tool_calls=[call]),
        Message.tool(call, f"observation {n}"),
    ]


async def test_blob_ref_is_the_sha256_and_writing_twice_keeps_one_file(tmp_path: Path) -> None:
    blobs = FolderBlobStore(tmp_path)
    first = await blobs.put(b"same bytes")
    again = await blobs.put(b"same bytes")
    assert first == again == hashlib.sha256(b"same bytes").hexdigest()
    assert await blobs.get(first) == b"same bytes"
    assert files_in(tmp_path) == [tmp_path / first[:2] / first[2:]]


async def test_unknown_or_malformed_refs_raise_blob_missing(tmp_path: Path) -> None:
    blobs = FolderBlobStore(tmp_path)
    with pytest.raises(BlobMissingError, match="is not in the store"):
        await blobs.get("0" * 64)
    with pytest.raises(BlobMissingError, match="is not a blob reference"):
        await blobs.get("../../etc/passwd")


async def test_each_segment_stores_its_parent_and_only_the_added_messages(tmp_path: Path) -> None:
    blobs = FolderBlobStore(tmp_path)
    store = ConversationStore(blobs)
    first = await store.append(None, [Message.system("be brief"), Message.user("go")])
    second = await store.append(first, turn(1))
    third = await store.append(second, turn(2))
    segment = json.loads(await blobs.get(third))
    assert segment["parent"] == second
    assert [m["content"] for m in segment["messages"]] == ["step 2", "observation 2"]
    loaded = await store.load(third)
    assert [m.content for m in loaded] == [
        "be brief",
        "go",
        "step 1",
        "observation 1",
        "step 2",
        "observation 2",
    ]
    assert await store.load(None) == []


async def test_a_retried_turn_reads_and_writes_the_same_conversation(tmp_path: Path) -> None:
    """Another worker (cold cache) reads identical messages; the same append gives the same ref."""
    blobs = FolderBlobStore(tmp_path)
    store = ConversationStore(blobs)
    parent = await store.append(None, [Message.user("go"), *turn(1)])
    child = await store.append(parent, turn(2))
    files = len(files_in(tmp_path))

    retrying_worker = ConversationStore(FolderBlobStore(tmp_path))
    assert await retrying_worker.load(parent) == await store.load(parent)
    assert await retrying_worker.append(parent, turn(2)) == child
    assert len(files_in(tmp_path)) == files


async def test_cold_load_walks_the_chain_once_then_serves_from_cache(tmp_path: Path) -> None:
    writer = ConversationStore(FolderBlobStore(tmp_path))
    ref = await writer.append(None, [Message.user("go")])
    for n in range(1, 5):
        ref = await writer.append(ref, turn(n))

    blobs = CountingBlobStore(tmp_path)
    reader = ConversationStore(blobs)
    assert len(await reader.load(ref)) == 1 + 2 * 4
    assert blobs.reads == 5
    assert len(await reader.load(ref)) == 9
    assert blobs.reads == 5
    # The next turn starts from the cached conversation: nothing is read again.
    child = await reader.append(ref, turn(5))
    assert len(await reader.load(child)) == 11
    assert blobs.reads == 5


async def test_a_cold_load_caches_only_the_conversation_asked_for(tmp_path: Path) -> None:
    """Loading a long chain after a restart does not push live conversations out of the cache."""
    writer = ConversationStore(FolderBlobStore(tmp_path))
    long_chain = await writer.append(None, [Message.user("long task")])
    for n in range(1, 6):
        long_chain = await writer.append(long_chain, turn(n))

    blobs = CountingBlobStore(tmp_path)
    worker = ConversationStore(blobs, cache_size=2)
    live = await worker.append(None, [Message.user("live task")])
    assert len(await worker.load(long_chain)) == 11
    reads = blobs.reads
    assert [m.content for m in await worker.load(live)] == ["live task"]
    assert blobs.reads == reads


async def test_a_tiny_cache_evicts_yet_every_conversation_loads_right(tmp_path: Path) -> None:
    store = ConversationStore(FolderBlobStore(tmp_path), cache_size=1)
    a = await store.append(None, [Message.user("task a")])
    b = await store.append(None, [Message.user("task b")])
    for n in range(1, 4):
        a = await store.append(a, turn(n))
        b = await store.append(b, turn(n + 10))
    loaded_a, loaded_b = await store.load(a), await store.load(b)
    assert len(loaded_a) == len(loaded_b) == 7
    assert loaded_a[0].content == "task a"
    assert loaded_b[0].content == "task b"
    assert [m.content for m in loaded_a if m.role == "tool"] == [
        "observation 1",
        "observation 2",
        "observation 3",
    ]
    assert [m.content for m in loaded_b if m.role == "tool"] == [
        "observation 11",
        "observation 12",
        "observation 13",
    ]


async def test_folder_driver_round_trips_payloads_by_their_hash(tmp_path: Path) -> None:
    driver = BlobStorageDriver(FolderBlobStore(tmp_path))
    payloads = [
        Payload(metadata={"encoding": b"json/plain"}, data=b'"one"'),
        Payload(metadata={"encoding": b"json/plain"}, data=b'"two"'),
    ]
    claims = await driver.store(StorageDriverStoreContext(), payloads)
    assert [c.claim_data["sha256"] for c in claims] == [
        hashlib.sha256(p.SerializeToString()).hexdigest() for p in payloads
    ]
    assert await driver.retrieve(StorageDriverRetrieveContext(), claims) == payloads


async def test_converter_sends_only_payloads_over_the_threshold_to_the_store(
    tmp_path: Path,
) -> None:
    converter = data_converter(Settings(data_dir=tmp_path, payload_store_threshold=1024))
    small, large = "x" * 100, "y" * 5000
    encoded = await converter.encode([small, large])
    assert not encoded[0].external_payloads
    assert encoded[0].ByteSize() < 200
    assert encoded[1].external_payloads[0].size_bytes > 5000
    assert encoded[1].ByteSize() < 1024
    assert await converter.decode(encoded, [str, str]) == [small, large]
    assert len(files_in(tmp_path / "store")) == 1
