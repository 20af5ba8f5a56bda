"""Benchmark: peak memory and time of consolidating 2 000, 20 000 and 100 000 synthetic units.

Each size runs in a fresh process (so each peak RSS is its own).  Rows reach the consolidator as
Store.iter_current yields them: one decoded JSON row at a time.  They are made from 40 real
returns (generated, read and verified), each repeated under new budget codes, unit names and
departments, so decoding, findings and text are as in a real district.

    python scripts/bench_consolidate.py [--sizes 2000 20000 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sample_rows(n_distinct: int = 40) -> list[tuple[str, str]]:
    """(return_json, report_json) of real verified synthetic returns, as the store keeps them."""
    from workbook.generate import Unit, WorkbookFactory
    from workbook.read import read_return
    from workbook.synthetic import synthetic_inputs, synthetic_unit, with_notes
    from workbook.verify import verify

    rng = random.Random(7)
    factory = WorkbookFactory()
    out = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(n_distinct):
            code, name, dept = synthetic_unit(i, rng)
            p = Path(d) / f"{i}.xlsx"
            quality = rng.choice(["good", "fair", "poor"])
            factory.write(p, Unit(name, code, 2021, dept), with_notes(synthetic_inputs(rng, quality)))
            data = verify(read_return(p)).to_dict()
            ret = {k: data.get(k) for k in ("file", "sha256", "template", "return_id", "unit", "inputs", "notes",
                                            "explanations", "tables")}
            rep = {k: data.get(k) for k in ("indicators", "subtotals", "computed", "total", "cached_total", "grade",
                                            "errors", "warnings", "findings")}
            out.append((json.dumps(ret, ensure_ascii=False, default=str), json.dumps(rep, ensure_ascii=False, default=str)))
    return out


def one(n: int, samples_file: Path) -> None:
    from workbook.consolidate import consolidate

    samples = json.loads(samples_file.read_text(encoding="utf-8"))
    depts = [f"合成主管部门{i:03d}（演示）" for i in range(max(1, n // 40))]

    class FakeStore:
        def iter_current(self, year: int):
            for i in range(n):
                ret_json, rep_json = samples[i % len(samples)]
                code, name, dept = f"{800000 + i}", f"合成单位{i:06d}事务中心（演示）", depts[i % len(depts)]
                ret = json.loads(ret_json)
                ret["unit"] = {**(ret.get("unit") or {}), "budget_code": code, "unit_name": name, "parent_dept": dept}
                yield {"budget_code": code, "unit_name": name, "parent_dept": dept, "year": year, "return": ret,
                       "report": json.loads(rep_json)}

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        tables = consolidate(FakeStore(), 2021, Path(d) / "district.xlsx", csv_dir=Path(d) / "csv")
        size = (Path(d) / "district.xlsx").stat().st_size / 2**20
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n:>7} units: consolidate {dt:6.1f} s, peak RSS {peak:5.0f} MiB (process before: {base:.0f} MiB), "
          f"{len(tables.findings)} findings, workbook {size:.1f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="*", default=[2000, 20000, 100000])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--samples", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(args.one, args.samples)
        return
    with tempfile.TemporaryDirectory() as d:
        samples = Path(d) / "samples.json"
        samples.write_text(json.dumps(sample_rows(), ensure_ascii=False), encoding="utf-8")
        for n in args.sizes:
            subprocess.run([sys.executable, __file__, "--one", str(n), "--samples", str(samples)], check=True)
    print("goal: 100 000 units in < 300 MiB")


if __name__ == "__main__":
    main()
