"""Benchmark: collect N synthetic returns into a fresh store and consolidate them.

Prints returns per second and peak memory (main process and workers), for two sizes so
that memory growth with the number of returns is visible.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

from workbook.collect import collect
from workbook.consolidate import consolidate
from workbook.generate import Unit, WorkbookFactory
from workbook.store import Store
from workbook.synthetic import synthetic_inputs, synthetic_unit, with_notes


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make(folder: Path, n: int, factory: WorkbookFactory) -> None:
    rng = random.Random(n)
    folder.mkdir(parents=True)
    for i in range(n):
        code, name, dept = synthetic_unit(i, rng)
        factory.write(folder / f"{code}.xlsx", Unit(name, code, 2021, dept),
                      with_notes(synthetic_inputs(rng, rng.choice(["good", "fair", "poor"]))))


def run(n: int, factory: WorkbookFactory) -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "returns"
        make(folder, n, factory)
        before = rss_mib()
        with Store(Path(d) / "j.sqlite") as store:
            t0 = time.perf_counter()
            summary = collect([folder], store)
            t1 = time.perf_counter()
            after_collect = rss_mib()
            consolidate(store, 2021, Path(d) / "district.xlsx", csv_dir=Path(d) / "csv")
            t2 = time.perf_counter()
        print(f"{n} returns: collect {t1 - t0:.1f} s = {n / (t1 - t0):.0f} returns/s "
              f"(new {summary.new}, rejected {summary.rejected_count}); consolidate {t2 - t1:.2f} s; "
              f"total {n / (t2 - t0):.0f} returns/s; main RSS peak: before {before:.0f} MiB, after collect "
              f"{after_collect:.0f} MiB, after consolidate {rss_mib():.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=2000)
    args = ap.parse_args()
    factory = WorkbookFactory()
    run(max(200, args.n // 4), factory)
    run(args.n, factory)
    print(f"largest worker peak RSS: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB")
    print("goal: ≥150 returns/s; memory should not grow with the number of returns")


if __name__ == "__main__":
    main()
