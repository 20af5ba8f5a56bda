"""Benchmark for 附件3-1 (row form): generate and read + verify; ms per workbook / return.

Aims as for 附件3-2: generate ≤ 10 ms per workbook, verify ≤ 6 ms per return.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_rowform_workbook import UNIT, random_case  # noqa: E402
from workbook.form.rowform import xiangmu_template  # noqa: E402
from workbook.generate.rows import RowWorkbookFactory  # noqa: E402
from workbook.read import read_return  # noqa: E402
from workbook.verify import verify  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=500)
    args = ap.parse_args()
    t0 = time.perf_counter()
    factory = RowWorkbookFactory(xiangmu_template())
    base = time.perf_counter() - t0
    cases = [random_case(random.Random(i)) for i in range(args.n)]
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        files = [factory.write(Path(d) / f"p{i}.xlsx", UNIT, c) for i, c in enumerate(cases)]
        gen = (time.perf_counter() - t0) / args.n * 1000
        datas = [(f, f.read_bytes()) for f in files]
        t0 = time.perf_counter()
        errors = sum(verify(read_return(f, data)).has_errors for f, data in datas)
        ver = (time.perf_counter() - t0) / args.n * 1000
    print(f"附件3-1：基础工作簿 {base * 1000:.0f} ms；生成 {gen:.2f} ms/份（目标 ≤ 10）；"
          f"读取+核验 {ver:.2f} ms/份（目标 ≤ 6）；{args.n} 份中 {errors} 份有错误")


if __name__ == "__main__":
    main()
