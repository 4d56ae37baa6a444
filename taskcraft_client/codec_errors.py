"""Encrypted payloads without keys: one clear line instead of a converter's traceback.

A task written by workers with ``TASKCRAFT_CODEC_KEYS`` set has encrypted payloads; a CLI
or client without those keys cannot decode them, and the SDK says so as
``KeyError: 'Unknown payload encoding binary/encrypted'`` from deep inside decoding.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from taskcraft.errors import CodecKeysError

ENCRYPTED = "binary/encrypted"


def keys_hint(task_id: str) -> str:
    return (
        f"task {task_id}'s payloads are encrypted and this process has no key for them: set "
        "TASKCRAFT_CODEC_KEYS (or TASKCRAFT_CODEC_KEY_FILE) to the workers' keys"
    )


@contextmanager
def decoding_errors(task_id: str) -> Iterator[None]:
    try:
        yield
    except CodecKeysError:
        raise
    except Exception as error:
        if _mentions_encryption(error):
            raise CodecKeysError(keys_hint(task_id)) from None
        raise


def _mentions_encryption(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 10:
        if ENCRYPTED in str(error) or ENCRYPTED in repr(getattr(error, "args", "")):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
