"""Benchmark: collect N signed, registered 附件3-1 returns (one per project) into a fresh store.

Every return is a project workbook issued by the store (registered, MAC under the bureau key),
filled with a random input set, so collect runs the full path: parallel read, verify, identity and
register checks, one transaction per return.  A second round re-sends a newer version of every
project (each replaces its project's current return).  Prints returns per second per round.

Aim (as for 附件3-2): collect ≥ 150 returns/s.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_rowform_workbook import random_case  # noqa: E402
from workbook.collect import collect  # noqa: E402
from workbook.form.rowform import xiangmu_template  # noqa: E402
from workbook.form.unit import Unit  # noqa: E402
from workbook.generate.rows import RowWorkbookFactory  # noqa: E402
from workbook.store import Store  # noqa: E402

FORM = "jixiao.xiangmu"


def projects(n: int) -> list[tuple[Unit, str]]:
    """n projects, about four per unit, each with its return_id."""
    out = []
    for i in range(n):
        code = f"{900000 + i // 4}"
        unit = Unit(f"合成单位{i // 4:04d}（演示）", code, 2021, "区财政局",
                    {"project_name": f"合成项目{i:05d}", "project_code": f"XM{i:05d}" if i % 3 else None})
        out.append((unit, str(uuid.uuid4())))
    return out


def write_round(folder: Path, factory: RowWorkbookFactory, items: list[tuple[Unit, str]], seed: int,
                saved: str) -> None:
    from tests.forge import set_saved

    folder.mkdir(parents=True)
    rng = random.Random(seed)
    for i, (unit, rid) in enumerate(items):
        data = factory.build(unit, random_case(rng), return_id=rid)
        (folder / f"p{i:05d}.xlsx").write_bytes(set_saved(data, saved))


def timed(folder: Path, store: Store, workers: int | None) -> tuple[float, object]:
    t0 = time.perf_counter()
    summary = collect([folder], store, workers)
    return time.perf_counter() - t0, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=600)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    items = projects(args.n)
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        with Store(root / "j.sqlite") as store:
            store.register({"return_id": rid, "budget_code": u.budget_code, "unit_name": u.unit_name,
                            "parent_dept": u.parent_dept, "year": u.year, "template_id": FORM,
                            "template_version": xiangmu_template().version, "project_code": u.prefill.get("project_code"),
                            "project_name": u.prefill["project_name"]} for u, rid in items)
            factory = RowWorkbookFactory(xiangmu_template(), key=store.key)
            write_round(root / "r1", factory, items, 1, "2022-03-01T08:00:00Z")
            write_round(root / "r2", factory, items, 2, "2022-03-02T08:00:00Z")
            first, s1 = timed(root / "r1", store, args.workers)
            second, s2 = timed(root / "r2", store, args.workers)
            current = len(store.current(2021, form=FORM))
    n = args.n
    print(f"附件3-1 collect：{n} 份新报表 {first:.2f} s = {n / first:.0f} 份/秒（新收 {s1.new}，待核实 {s1.held_count}，"
          f"拒收 {s1.rejected_count}）；{n} 份新版本 {second:.2f} s = {n / second:.0f} 份/秒（更新 {s2.updated}）；"
          f"当前 {current} 个项目")
    print("目标：≥ 150 份/秒")


if __name__ == "__main__":
    main()
