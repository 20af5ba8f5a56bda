"""Peak memory of `jixiao verify` and `jixiao collect` at 1,000 and 10,000 files (it must stay flat).

    python scripts/bench_memory.py            # 1000 and 10000 files
    python scripts/bench_memory.py 1000 3000  # other sizes
    python scripts/bench_memory.py --repo /work/main 1000   # the same measurement on another checkout

Each command runs through the real entry point in a child process; the figures are the
peak resident set of the command's own process and of its largest worker.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRAPPER = """
import atexit, resource, runpy, sys
def report():
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write(f"@@peak {me} {kids}\\n")
atexit.register(report)
sys.argv = ["jixiao", *sys.argv[1:]]
runpy.run_module("cli.main", run_name="__main__")
"""


def make_returns(folder: Path, n: int) -> None:
    from workbook.generate import Unit, WorkbookFactory
    from workbook.synthetic import synthetic_inputs, synthetic_unit, with_notes

    factory = WorkbookFactory()
    rng = random.Random(1)
    folder.mkdir(parents=True, exist_ok=True)
    have = len(list(folder.glob("*.xlsx")))
    for i in range(have, n):
        code, name, dept = synthetic_unit(i, rng)
        factory.write(folder / f"{i:06d}.xlsx", Unit(name, f"{code}{i}", 2021, dept),
                      with_notes(synthetic_inputs(rng, rng.choice(["good", "fair"]))))


def measure(repo: Path, args: list[str]) -> tuple[float, float, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *args], cwd=repo, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    line = next(x for x in proc.stderr.splitlines() if x.startswith("@@peak"))
    me, kids = (int(v) / 1024 for v in line.split()[1:])
    return elapsed, me, kids


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    ap.add_argument("--repo", type=Path, default=ROOT, help="checkout whose jixiao is measured")
    ap.add_argument("--workers", default="2")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="jixiao-mem-") as tmp:
        folder = Path(tmp) / "in"
        print(f"{'文件数':>6}  {'命令':<8} {'用时':>7}  {'主进程峰值':>10}  {'工作进程峰值':>12}")
        for n in sorted(a.sizes):
            make_returns(folder, n)
            for cmd in ("verify", "collect"):
                extra = ["--db", str(Path(tmp) / f"j{n}.sqlite")] if cmd == "collect" else ["--json"]
                elapsed, me, kids = measure(a.repo, [cmd, str(folder), "--workers", a.workers, *extra])
                print(f"{n:>6}  {cmd:<8} {elapsed:>6.1f}s  {me:>8.0f} MiB  {kids:>10.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
