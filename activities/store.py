"""A content-addressed blob store, the conversation chain built on it, and Temporal's claim check.

Why content addressing: a retried or replayed activity that reads ``ref`` gets exactly
the bytes the first attempt read, and writing the same content twice is harmless.

Why a chain: each model turn stores one small segment (its parent's ref plus the
messages added), so history carries a 64-character reference instead of the whole
conversation, and store writes stay proportional to what changed. Workers keep
materialised conversations in an LRU cache, so the common case reads nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
)

from taskcraft.messages import Message


class BlobMissingError(LookupError):
    """A reference points at content the store does not have (a wrong data dir, usually)."""


def blob_ref(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_ref(ref: str) -> str:
    """``ref`` if it is a sha256 in hex; a path or key is never built from anything else."""
    if len(ref) != 64 or not all(c in "0123456789abcdef" for c in ref):
        raise BlobMissingError(f"{ref!r} is not a blob reference")
    return ref


class BlobStore(ABC):
    """Immutable blobs named by the sha256 of their content, shared by every worker."""

    kind: str  # names the claim-check driver, so a claim says which store holds it

    @abstractmethod
    async def put(self, data: bytes) -> str:
        """Store ``data`` (harmless if already there) and return its reference."""

    @abstractmethod
    async def get(self, ref: str) -> bytes:
        """The bytes stored under ``ref``; ``BlobMissingError`` if there are none."""


class FolderBlobStore(BlobStore):
    """Blobs in a folder, named by their sha256: ``<root>/ab/cdef…``. The default."""

    kind = "folder"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, ref: str) -> Path:
        check_ref(ref)
        return self.root / ref[:2] / ref[2:]

    def put_sync(self, data: bytes) -> str:
        ref = blob_ref(data)
        path = self._path(ref)
        if path.exists():
            return ref
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a blob.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return ref

    def get_sync(self, ref: str) -> bytes:
        try:
            return self._path(ref).read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissingError(f"blob {ref} is not in the store at {self.root}") from exc

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self.put_sync, data)

    async def get(self, ref: str) -> bytes:
        return await asyncio.to_thread(self.get_sync, ref)


def canonical_json(value: object) -> bytes:
    """Sorted keys, no spaces: equal values are equal bytes, so they share one blob."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class ConversationStore:
    """Conversations as chains of segments ``{"parent": ref | None, "messages": [...]}``."""

    def __init__(self, blobs: BlobStore, cache_size: int = 512) -> None:
        self.blobs = blobs
        self._cache: OrderedDict[str, tuple[Message, ...]] = OrderedDict()
        self._cache_size = cache_size

    def _remember(self, ref: str, messages: tuple[Message, ...]) -> None:
        self._cache[ref] = messages
        self._cache.move_to_end(ref)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def load(self, ref: str | None) -> list[Message]:
        if ref is None:
            return []
        if ref in self._cache:
            self._cache.move_to_end(ref)
            return list(self._cache[ref])
        # Walk back to the newest cached ancestor (or the start), then replay forward.
        # Only the conversation asked for is cached: caching every ancestor of a long
        # chain would push other tasks' live conversations out of the cache.
        segments: list[list[Message]] = []
        cursor: str | None = ref
        base: tuple[Message, ...] = ()
        while cursor is not None:
            if cursor in self._cache:
                base = self._cache[cursor]
                break
            segment = json.loads(await self.blobs.get(cursor))
            segments.append([Message.model_validate(item) for item in segment["messages"]])
            cursor = segment["parent"]
        messages = (*base, *(message for added in reversed(segments) for message in added))
        self._remember(ref, messages)
        return list(messages)

    async def append(self, parent: str | None, added: Sequence[Message]) -> str:
        base = await self.load(parent)
        segment = {"parent": parent, "messages": [m.model_dump(mode="json") for m in added]}
        ref = await self.blobs.put(canonical_json(segment))
        self._remember(ref, (*base, *added))
        return ref


class BlobStorageDriver(StorageDriver):
    """Temporal external storage (claim check) backed by the blob store.

    Payloads over the converter's threshold are written here and history keeps only a
    claim, so a large tool output can never hit the server's 2 MiB payload limit. The
    driver is named after the store's kind: a worker configured with another store
    fails on the claim with a clear error instead of reading the wrong place.
    """

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs
        self._name = f"taskcraft-{blobs.kind}"

    def name(self) -> str:
        return self._name

    async def store(
        self, context: StorageDriverStoreContext, payloads: Sequence[Payload]
    ) -> list[StorageDriverClaim]:
        refs = [await self._blobs.put(payload.SerializeToString()) for payload in payloads]
        return [StorageDriverClaim(claim_data={"sha256": ref}) for ref in refs]

    async def retrieve(
        self, context: StorageDriverRetrieveContext, claims: Sequence[StorageDriverClaim]
    ) -> list[Payload]:
        payloads = []
        for claim in claims:
            payload = Payload()
            payload.ParseFromString(await self._blobs.get(claim.claim_data["sha256"]))
            payloads.append(payload)
        return payloads
