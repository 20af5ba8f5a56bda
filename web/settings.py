"""What one running desk is configured with, and the per-request store."""

from __future__ import annotations

import getpass
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from workbook import review, rosters
from workbook.originals import Originals
from workbook.store import Store

MiB = 1024 * 1024


def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "本机用户"


@dataclass
class Settings:
    db: Path
    password: str | None = None
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    files_dir: Path | None = None  # originals by hash; default <db>.files next to the store
    max_file: int = 20 * MiB  # per uploaded file (and per file inside a zip)
    max_request: int = 200 * MiB  # per request body
    max_files: int = 2000  # files per request (zip members included)
    upload_batch: int = 50  # files the upload page sends per request, so fates appear as they are decided
    workers: int | None = None
    local_user: str = field(default_factory=_local_user)
    session_hours: int = 12
    allowed_hosts: list[str] | None = None  # Host names accepted (None: any); local desks accept only their own

    _schema_ready: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.db = Path(self.db)
        if self.files_dir is None:
            self.files_dir = self.db.with_name(self.db.name + ".files")

    @property
    def originals(self) -> Originals:
        return Originals(self.files_dir)

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A store connection for one request (SQLite connections stay in the thread that opened them)."""
        store = Store(self.db)
        try:
            if not self._schema_ready:  # the desk's own tables, created once per run
                review.ensure_schema(store)
                rosters.ensure_schema(store)
                self._schema_ready = True
            yield store
        finally:
            store.close()
