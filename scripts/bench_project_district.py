"""Benchmark for the 项目支出 district workbook (附件3-1): build + write time and peak Python memory.

A few real 附件3-1 returns (generated, filled, read and verified) are stored as the store stores them and
repeated under N different units/projects as a generator, so rows stream in as from Store.iter_current.
Prints ms per project and the tracemalloc peak (Python allocations, not RSS).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.projects_support import funds, indicators, project_row, project_unit  # noqa: E402
from tests.test_rowform_workbook import random_case  # noqa: E402
from workbook.project_district import build_project_tables, write_project_workbook  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=20000, help="projects")
    ap.add_argument("--per-unit", type=int, default=4, help="projects per unit")
    ap.add_argument("--memory", action="store_true", help="measure the peak with tracemalloc (slow)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rng = random.Random(1)
        cases = [{**funds(100, rng.randint(30, 110)), **indicators(output_actual=rng.randint(100, 260),
                                                                  satisfaction_actual=rng.randint(70, 99))}
                 for _ in range(18)] + [random_case(random.Random(i)) for i in range(2)]  # mostly clean, a few errors
        seeds = [project_row(tmp, project_unit("100000", "单位", "部门", f"项目{i}"), c) for i, c in enumerate(cases)]

        stored = [json.dumps(r, ensure_ascii=False) for r in seeds]

        def rows():  # decoded from JSON per row, as Store._decode does
            for i in range(args.n):
                r = json.loads(stored[i % len(stored)])
                unit = i // args.per_unit
                r.update(budget_code=f"{100000 + unit}", unit_name=f"单位{unit}", parent_dept=f"部门{unit % 40}",
                         project_code=f"XM{i}", project_key=f"XM{i}")
                yield r

        if args.memory:
            tracemalloc.start()
        t0 = time.perf_counter()
        tables = build_project_tables(rows(), 2021, unit_rows=None)
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_project_workbook(tables, tmp / "项目汇总.xlsx")
        written = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] if args.memory else 0
        tracemalloc.stop()
        size = (tmp / "项目汇总.xlsx").stat().st_size
        print(f"项目支出汇总：{args.n} 个项目（{tables.included} 计入，{tables.excluded} 有错误），"
              f"未达标指标 {len(tables.below)} 行，问题 {len(tables.findings)} 条")
        print(f"汇总 {built * 1000 / args.n:.3f} ms/项目，写工作簿 {written * 1000 / args.n:.3f} ms/项目，"
              f"共 {built + written:.1f} s；文件 {size / 1e6:.1f} MB；进程峰值内存 "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
              + (f"；Python 内存峰值 {peak / 1e6:.1f} MB（tracemalloc，计时因此变慢）" if args.memory else ""))
        tables.close()


if __name__ == "__main__":
    main()
