"""Conversations as chains of blobs, so history carries a reference, not the messages.

Each model turn stores one small segment (its parent's ref plus the messages added), so
history carries a 64-character reference instead of the whole conversation, and store
writes stay proportional to what changed. Workers keep materialised conversations in an
LRU cache, so the common case reads nothing.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence

from taskcraft.blobs import BlobStore, canonical_json
from taskcraft.messages import Message


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
