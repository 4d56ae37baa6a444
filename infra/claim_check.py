"""Temporal's claim check (external storage) on the blob store."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
)

from taskcraft.blobs import BlobStore


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
