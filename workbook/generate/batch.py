"""Generate one workbook per roster unit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .api import Unit, WorkbookFactory
from .roster import safe_filename


def generate_batch(units: Iterable[Unit], out_dir: str | Path, factory: WorkbookFactory,
                   on_progress: Callable[[Unit, Path], None] | None = None) -> list[Path]:
    """Write `<预算编码>-<单位名称>.xlsx` for every unit into out_dir; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for unit in units:
        path = factory.write(out / safe_filename(unit), unit)
        paths.append(path)
        if on_progress:
            on_progress(unit, path)
    return paths
