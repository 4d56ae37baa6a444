"""Content-addressed blobs: the interface every store implements, and how blobs are named.

Why content addressing: a retried or replayed activity that reads ``ref`` gets exactly
the bytes the first attempt read, and writing the same content twice is harmless. The
stores themselves (a folder, an S3 bucket, encrypted wrappers) are infrastructure
(``infra/``); activities receive one and know only this interface.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod

from taskcraft.errors import BlobMissingError


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


def canonical_json(value: object) -> bytes:
    """Sorted keys, no spaces: equal values are equal bytes, so they share one blob."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
