"""Where the bytes of photos live, behind one interface (local folder now, S3-like later).

Keys are the SHA-256 of the content: the same bytes are stored once, a stored file never
changes, and a key says nothing about who uploaded it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Protocol


class PhotoStore(Protocol):
    """Content-addressed blob storage for photos."""

    async def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its key (the SHA-256, hex)."""
        ...

    async def open(self, key: str) -> bytes:
        """The bytes stored under ``key``; ``FileNotFoundError`` when there are none."""
        ...

    def url(self, key: str) -> str | None:
        """A URL clients may fetch the bytes from directly (a signed URL of an object
        store), or None when the app serves them itself (after its access check)."""
        ...

    async def delete(self, key: str, *, unless_put_since: datetime) -> bool:
        """Remove the bytes under ``key`` unless they were put (again) since the given time
        (an upload of the same bytes racing the cleanup keeps them); True if removed."""
        ...


def key_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalPhotoStore:
    """Files under one folder, fanned out by the key's first bytes: ``ab/cd/abcd...``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise FileNotFoundError(key)  # never let a key walk out of the folder
        return self.root / key[:2] / key[2:4] / key

    def _write(self, key: str, data: bytes) -> None:
        target = self.path(key)
        if target.exists():
            os.utime(target)  # put again: the cleanup of unused files must keep it
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside it, then rename: a reader never sees half a file, and two writers of
        # the same bytes both end with the same complete file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".up-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def put(self, data: bytes) -> str:
        key = key_of(data)
        await asyncio.to_thread(self._write, key, data)
        return key

    async def open(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    def url(self, key: str) -> str | None:
        return None

    def _delete(self, key: str, since: float) -> bool:
        target = self.path(key)
        try:
            if target.stat().st_mtime >= since:
                return False
            target.unlink()
        except FileNotFoundError:
            return False
        return True

    async def delete(self, key: str, *, unless_put_since: datetime) -> bool:
        return await asyncio.to_thread(self._delete, key, unless_put_since.timestamp())


_stores: dict[Path, LocalPhotoStore] = {}


def photo_store(data_dir: Path) -> PhotoStore:
    """The photo store of a data folder (``<data_dir>/photos``)."""
    root = Path(data_dir) / "photos"
    store = _stores.get(root)
    if store is None:
        store = _stores[root] = LocalPhotoStore(root)
    return store
