"""Benchmark: generate workbooks for a 1,000-unit roster; print ms per workbook and file size."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from workbook.generate import Unit, WorkbookFactory
from workbook.generate.batch import generate_batch
from workbook.template import default_template


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=1000)
    args = ap.parse_args()
    prior = next(iter(default_template().form.prefill))  # a money input prefilled from last year's return
    units = [Unit(f"合成单位{i:04d}（基准测试）", f"9{i:05d}", 2021, f"合成主管部门{i % 25:02d}",
                  {prior: round(i * 0.37 % 50, 2)} if i % 3 == 0 else {}) for i in range(args.n)]
    t0 = time.perf_counter()
    factory = WorkbookFactory()
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        times: list[float] = []
        last = [time.perf_counter()]

        def tick(_u, _p):
            now = time.perf_counter()
            times.append(now - last[0])
            last[0] = now

        t2 = time.perf_counter()
        paths = generate_batch(units, d, factory, on_progress=tick)
        t3 = time.perf_counter()
        sizes = [Path(p).stat().st_size for p in paths]
    per = (t3 - t2) * 1000 / len(paths)
    print(f"units: {len(paths)}")
    print(f"base build (once per batch): {(t1 - t0) * 1000:.1f} ms")
    print(f"per workbook (write to disk): {per:.2f} ms  (median {statistics.median(times) * 1000:.2f} ms, "
          f"p95 {sorted(times)[int(len(times) * 0.95)] * 1000:.2f} ms)")
    print(f"total incl. base: {(t3 - t0):.2f} s")
    print(f"file size: mean {statistics.mean(sizes) / 1024:.1f} KiB, max {max(sizes) / 1024:.1f} KiB")
    print(f"goal ≤ 10 ms per workbook: {'met' if per <= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
