"""Collect a folder of returns into the store: read in parallel, verify, check identity, store.

Never stopped by one file.  Every file's identity is checked against the store's register and key;
a return with an identity error is held (待核实), never made current.  The summary names every
supersede, every re-sent older version and every unit with two versions in the batch.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .batchread import check_many, scan_paths
from .identity import is_identity_error, issuance_findings
from .interrupts import deferred
from .scan import Scan
from .store import DUPLICATE, HELD, NEW, OLDER, OUTCOME_ZH, REJECTED, UPDATED, Store, Stored, mtime_text
from .verify import Verification


@dataclass
class CollectSummary:
    files: int = 0
    counts: Counter = field(default_factory=Counter)  # new/updated/duplicate/rejected/held/older
    with_errors: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    held: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): identity in doubt, 待核实
    superseded: list[dict[str, Any]] = field(default_factory=list)  # {code, year, old, new}
    older: list[dict[str, Any]] = field(default_factory=list)  # an older version arrived: {code, year, file, current}
    versions: dict[str, list[str]] = field(default_factory=dict)  # "code/year" -> files, when 2+ in this batch
    skipped: list[str] = field(default_factory=list)  # files in the folders that are clearly not spreadsheets
    error_files: list[tuple[str, str]] = field(default_factory=list)  # (path, unit name) of returns with errors
    stored: int = 0  # files whose fate is committed to the store (what an interruption keeps)
    fates: list[dict[str, Any]] = field(default_factory=list)  # every file: outcome, form, unit, project, year

    @property
    def new(self) -> int:
        return self.counts[NEW]

    @property
    def updated(self) -> int:
        return self.counts[UPDATED]

    @property
    def duplicate(self) -> int:
        return self.counts[DUPLICATE]

    @property
    def rejected_count(self) -> int:
        return self.counts[REJECTED]

    @property
    def held_count(self) -> int:
        return self.counts[HELD]

    def to_dict(self) -> dict[str, Any]:
        """The `collect --json` document."""
        return {
            "files": self.files,
            "counts": {k: self.counts[k] for k in OUTCOME_ZH},
            "with_errors": self.with_errors,
            "rejected": [{"file": p, "reason": r} for p, r in self.rejected],
            "held": [{"file": p, "reason": r} for p, r in self.held],
            "superseded": self.superseded,
            "older": self.older,
            "versions_in_batch": [{"unit": k, "files": v} for k, v in self.versions.items()],
            "skipped": self.skipped,
            "with_errors_files": [{"file": p, "unit_name": u} for p, u in self.error_files],
            "file_fates": self.fates,
        }


def identity_check(v: Verification, store: Store) -> str | None:
    """Add the store's identity findings to `v`; the hold reason when its identity is in doubt."""
    if v.report is None:
        return None
    v.findings.extend(issuance_findings(v.ret, store.issuance()))
    doubts = [f.message for f in v.findings if is_identity_error(f)]
    return "；".join(doubts)[:500] if doubts else None


def collect(paths: Iterable[str | Path], store: Store, workers: int | None = None,
            on_file: Callable[[Verification, str], None] | None = None,
            on_stored: Callable[[Verification, Stored], None] | None = None, *, isolate: bool = False,
            names: dict[str, str] | None = None, scan: Scan | None = None,
            summary: CollectSummary | None = None) -> CollectSummary:
    """Read, verify and store every file under `paths`; every file ends up stored or listed as rejected.

    `names` maps a file's path to the name recorded as its source (e.g. an upload's own file name);
    `isolate` checks even a single file in a worker process (see check_many).  `scan` is the file
    list when the caller already built it; `summary` is filled in as files are stored, so a caller
    interrupted by Ctrl-C still knows what was committed.  Each store write completes before an
    interruption takes effect.
    """
    scan = scan or scan_paths(paths)
    files, missing = scan.files, scan.missing
    summary = summary or CollectSummary()
    summary.files = len(files) + len(missing)
    summary.skipped = [str(f) for f in scan.skipped]
    for m in missing:
        summary.counts[REJECTED] += 1
        summary.rejected.append((str(m), "路径不存在"))
    batch: dict[str, list[str]] = defaultdict(list)
    # closing(): an interruption while storing ends the workers now, not when the generator is collected
    with closing(check_many(files, workers, isolate=isolate)) as results:
        for v in results:
            with deferred():
                hold = identity_check(v, store)
                source = (names or {}).get(v.ret.file)  # an upload's own name: the file's time is read from where it lies
                stored = store.add(v, source, hold=hold, file_mtime=mtime_text(v.ret.file) if source else None)
                summary.stored += 1
                _tally(summary, v, stored, batch)
            if on_stored:
                on_stored(v, stored)
            if on_file:
                on_file(v, stored.outcome)
    summary.versions = {k: fs for k, fs in batch.items() if len(fs) > 1}
    return summary


def _fate(v: Verification, stored: Stored) -> dict[str, Any]:
    """One file's fate for `collect --json`: what happened, and whose return (form, unit, project, year) it is."""
    unit = v.ret.unit or {}
    rows = getattr(v.ret, "row_form", None) is not None
    return {"file": v.ret.file, "outcome": stored.outcome, "submission_id": stored.submission_id,
            "form": v.ret.template_id, "budget_code": unit.get("budget_code"), "unit_name": unit.get("unit_name"),
            "year": unit.get("year"), "project_name": unit.get("project_name") if rows else None,
            "project_code": (unit.get("project_code") or None) if rows else None,
            "errors": v.count("error") if v.report is not None else None, "note": stored.note}


def _unit_key(v: Verification) -> str:
    """"code/year" for the unit form; "code/year/项目" for a per-project return."""
    unit = v.ret.unit or {}
    key = f"{unit.get('budget_code') or ''}/{unit.get('year') or ''}"
    if getattr(v.ret, "row_form", None) is not None:
        key += f"/{unit.get('project_code') or unit.get('project_name') or ''}"
    return key


def _tally(summary: CollectSummary, v: Verification, stored: Stored, batch: dict[str, list[str]]) -> None:
    summary.counts[stored.outcome] += 1
    summary.fates.append(_fate(v, stored))
    path = v.ret.file
    if stored.outcome == REJECTED:
        reason = v.ret.rejected or stored.note or v.findings[0].message
        summary.rejected.append((path, f"{reason}（{stored.note}）" if stored.note else reason))
        return
    if stored.outcome == HELD:
        summary.held.append((path, stored.note or ""))
    elif stored.has_errors and stored.outcome != DUPLICATE:
        summary.with_errors += 1
        unit = v.ret.unit or {}
        project = f"（项目：{unit.get('project_name') or ''}）" if getattr(v.ret, "row_form", None) is not None else ""
        summary.error_files.append((path, str(unit.get("unit_name") or "") + project))
    key = _unit_key(v)
    if stored.outcome in (NEW, UPDATED, OLDER):
        batch[key].append(path)
    if stored.outcome == UPDATED and stored.previous:
        summary.superseded.append({"unit": key, "old": stored.previous["source_path"], "old_id": stored.previous["id"],
                                   "new": path, "new_id": stored.submission_id})
    if stored.outcome == OLDER or (stored.outcome == DUPLICATE and stored.current):
        cur = stored.current or {}
        summary.older.append({"unit": key, "file": path, "id": stored.submission_id,
                              "current": cur.get("source_path"), "current_id": cur.get("id"),
                              "resent": stored.outcome == DUPLICATE})
