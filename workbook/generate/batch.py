"""Generate one workbook per roster unit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..form.roster import safe_filename
from ..outputs import OutputError, Outputs, prepare_dir
from .api import Unit, WorkbookFactory


def generate_batch(units: Iterable[Unit], out_dir: str | Path, factory: WorkbookFactory,
                   on_progress: Callable[[Unit, Path], None] | None = None,
                   return_id: Callable[[Unit, Path], str] | None = None, force: bool = False) -> list[Path]:
    """Write `<预算编码>-<单位名称>.xlsx` for every unit into out_dir; returns the paths.

    `return_id(unit, path)` issues each workbook's id (for the store's register); by default a random one.

    All or nothing: existing files are refused up front unless `force` (a returned
    workbook saved there must never be replaced by a blank one), and the workbooks are
    renamed into place only when every one is written.
    """
    out = prepare_dir(out_dir)
    units = list(units)
    targets = [out / safe_filename(u) for u in units]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        names = "、".join(p.name for p in existing[:5]) + (f" 等 {len(existing)} 个" if len(existing) > 5 else "")
        raise OutputError(out, f"{out} 中已有同名文件：{names}。未覆盖任何文件；"
                               "如确需覆盖请加 --force，或换一个输出文件夹")
    with Outputs(force=force) as outputs:
        for unit, path in zip(units, targets, strict=True):
            outputs.add_bytes(path, factory.build(unit, return_id=return_id(unit, path) if return_id else None))
            if on_progress:
                on_progress(unit, path)
    return targets
