"""Background jobs for slow downloads (the district workbook of a large district), with progress."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

KEEP_SECONDS = 3600


@dataclass
class Job:
    id: str
    title: str
    folder: Path
    done: int = 0
    total: int = 0
    stage: str = "排队中"
    state: str = "running"  # running | done | failed
    path: Path | None = None
    name: str = ""
    media_type: str = "application/octet-stream"
    error: str = ""
    created: float = field(default_factory=time.time)

    def progress(self, done: int, total: int, stage: str) -> None:
        self.done, self.total, self.stage = done, total, stage

    @property
    def percent(self) -> int:
        return 100 if self.state == "done" else int(100 * self.done / self.total) if self.total else 0


Work = Callable[[Job], tuple[Path, str, str]]  # returns (file, download name, media type)


class Jobs:
    """Jobs run in their own threads; finished files are kept for an hour, then removed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}

    def start(self, title: str, work: Work) -> Job:
        self.purge()
        job = Job(uuid.uuid4().hex, title, Path(tempfile.mkdtemp(prefix="jixiao-job-")))
        with self.lock:
            self.jobs[job.id] = job

        def run() -> None:
            try:
                job.path, job.name, job.media_type = work(job)
                job.state = "done"
            except Exception as exc:  # noqa: BLE001 - the page shows the failure; the server goes on
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"

        threading.Thread(target=run, name=f"jixiao-job-{job.id[:8]}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)

    def close(self) -> None:
        """Remove every job's files (the desk is stopping)."""
        with self.lock:
            jobs, self.jobs = list(self.jobs.values()), {}
        for j in jobs:
            shutil.rmtree(j.folder, ignore_errors=True)

    def purge(self, now: float | None = None) -> None:
        now = now or time.time()
        with self.lock:
            old = [j for j in self.jobs.values() if j.state != "running" and now - j.created > KEEP_SECONDS]
            for j in old:
                del self.jobs[j.id]
        for j in old:
            shutil.rmtree(j.folder, ignore_errors=True)
