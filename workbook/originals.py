"""Originals of every received file, kept by content hash (nothing a sender names becomes a path)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

SHA256 = re.compile(r"[0-9a-f]{64}")


class Originals:
    """A folder of files named <sha256[:2]>/<sha256>; written atomically, never overwritten."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path | None:
        """Where a file with this hash is kept, or None for anything that is not a sha256 hex digest."""
        if not SHA256.fullmatch(sha256 or ""):
            return None
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        assert target is not None
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return sha

    def get(self, sha256: str) -> bytes | None:
        p = self.path(sha256)
        if p is None or not p.is_file():
            return None
        return p.read_bytes()
