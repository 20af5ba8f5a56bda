"""Benchmark: read + verify 1,000 returns; ms per return, ratio against openpyxl double loading, peak memory."""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

from workbook.batchread import check_many
from workbook.generate import Unit, WorkbookFactory
from workbook.read import read_return
from workbook.synthetic import synthetic_inputs, synthetic_unit, with_notes
from workbook.verify import verify


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--openpyxl-sample", type=int, default=100, help="files loaded twice with openpyxl")
    args = ap.parse_args()
    rng = random.Random(7)
    factory = WorkbookFactory()
    with tempfile.TemporaryDirectory() as d:
        files = []
        for i in range(args.n):
            code, name, dept = synthetic_unit(i, rng)
            inputs = with_notes(synthetic_inputs(rng, rng.choice(["good", "fair", "poor"])))
            p = Path(d) / f"{code}.xlsx"
            factory.write(p, Unit(name, code, 2021, dept), inputs)
            files.append(p)
        size = sum(f.stat().st_size for f in files) / len(files)
        datas = [(f, f.read_bytes()) for f in files]
        t0 = time.perf_counter()
        errors = 0
        for f, data in datas:
            v = verify(read_return(f, data))
            errors += v.has_errors
        single = (time.perf_counter() - t0) * 1000 / len(files)
        t1 = time.perf_counter()
        results = list(check_many(files))
        parallel = time.perf_counter() - t1
        import openpyxl

        sample = files[: args.openpyxl_sample]
        t2 = time.perf_counter()
        for f in sample:
            openpyxl.load_workbook(f)  # formulas
            openpyxl.load_workbook(f, data_only=True)  # cached values
        opx = (time.perf_counter() - t2) * 1000 / len(sample)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"returns: {len(files)} (mean {size / 1024:.1f} KiB), with error findings: {errors}")
    print(f"jixiao read+verify, one process: {single:.2f} ms per return")
    print(f"jixiao read+verify, worker pool ({len(results)} files, file I/O included): "
          f"{len(results) / parallel:.0f} returns/s = {parallel * 1000 / len(results):.2f} ms per return wall")
    print(f"openpyxl double loading (formulas + cached values), {len(sample)} files: {opx:.1f} ms per return")
    print(f"speed-up vs openpyxl double loading: {opx / single:.1f}x (one process)")
    print(f"peak memory: main {peak_self:.0f} MiB, largest worker {peak_children:.0f} MiB")
    print(f"goals: ≥10x {'met' if opx / single >= 10 else 'NOT met'}; ≤6 ms per return "
          f"{'met' if single <= 6 else 'NOT met (one process)'}"
          f"{'; met with the worker pool' if parallel * 1000 / len(results) <= 6 else ''}")


if __name__ == "__main__":
    main()
