"""Which blob store a worker or CLI uses, and whether what goes into it is encrypted.

``TASKCRAFT_BLOB_STORE`` unset: ``<data dir>/store`` (one machine, or a shared volume).
``TASKCRAFT_BLOB_STORE=s3://bucket/prefix``: an S3-compatible bucket that every worker
and the CLI reach. Workers and CLI must agree, or one cannot read what another wrote.

With payload encryption on, conversations and pinned policies are written through the
same codec as history, so the store holds only ciphertext too. (Claim-checked payloads
are encrypted by the data converter before they reach the store.)
"""

from __future__ import annotations

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from infra.codec import codec_from_env
from infra.folder_store import FolderBlobStore
from infra.s3_store import BLOB_STORE_ENV, S3BlobStore
from infra.settings import Settings
from taskcraft.blobs import BlobStore


def open_blob_store(settings: Settings) -> BlobStore:
    """The store as configured, holding bytes as given (the claim check's store)."""
    url = settings.env.get(BLOB_STORE_ENV, "").strip()
    if not url:
        return FolderBlobStore(settings.blob_dir)
    return S3BlobStore.from_env(url, settings.env)


def open_record_store(settings: Settings) -> BlobStore:
    """The store for conversations and pinned policies: encrypted when payloads are."""
    store = open_blob_store(settings)
    codec = codec_from_env(settings.env)
    return store if codec is None else EncryptedBlobStore(store, codec)


class EncryptedBlobStore(BlobStore):
    """Blobs sealed by the payload codec; a blob's reference is the hash of its ciphertext.

    Each write encrypts with a fresh nonce, so the same content written twice gets two
    references. That costs a little space and nothing else: a reference, once in
    history, always names the bytes the first attempt wrote.
    """

    def __init__(self, inner: BlobStore, codec: PayloadCodec) -> None:
        self._inner = inner
        self._codec = codec
        self.kind = inner.kind

    async def put(self, data: bytes) -> str:
        (sealed,) = await self._codec.encode([Payload(data=data)])
        return await self._inner.put(sealed.SerializeToString())

    async def get(self, ref: str) -> bytes:
        sealed = Payload()
        sealed.ParseFromString(await self._inner.get(ref))
        (payload,) = await self._codec.decode([sealed])
        return payload.data
