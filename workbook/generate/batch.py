"""Generate one workbook per roster unit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .api import Unit, WorkbookFactory
from .roster import safe_filename


def generate_batch(units: Iterable[Unit], out_dir: str | Path, factory: WorkbookFactory,
                   on_progress: Callable[[Unit, Path], None] | None = None,
                   return_id: Callable[[Unit, Path], str] | None = None) -> list[Path]:
    """Write `<预算编码>-<单位名称>.xlsx` for every unit into out_dir; returns the paths.

    `return_id(unit, path)` issues each workbook's id (for the store's register); by default a random one.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for unit in units:
        target = out / safe_filename(unit)
        path = factory.write(target, unit, return_id=return_id(unit, target) if return_id else None)
        paths.append(path)
        if on_progress:
            on_progress(unit, path)
    return paths
