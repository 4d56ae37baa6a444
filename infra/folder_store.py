"""The default blob store: a folder, on one machine or a shared volume."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from taskcraft.blobs import BlobStore, blob_ref, check_ref
from taskcraft.errors import BlobMissingError


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
