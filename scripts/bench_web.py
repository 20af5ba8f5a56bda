"""Benchmark the web desk over HTTP on 127.0.0.1: upload N returns, then time the 回收台账 for 2,000 units.

Starts `jixiao serve` in a subprocess on a fresh store in a temporary folder, uploads the
returns in batches (as a clerk dropping folders would), and stops the server when done
(or after a time limit).  Prints returns/s (goal ≥ 100) and the board's server time from
the Server-Timing header (goal ≤ 200 ms for 2,000 units).
"""

from __future__ import annotations

import argparse
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbook.collect import collect  # noqa: E402
from workbook.generate import Unit, WorkbookFactory  # noqa: E402
from workbook.rosters import ensure_schema, save_roster  # noqa: E402
from workbook.store import Store  # noqa: E402
from workbook.synthetic import synthetic_inputs, synthetic_unit, with_notes  # noqa: E402

YEAR = 2021


def make(folder: Path, start: int, n: int, factory: WorkbookFactory) -> list[Unit]:
    rng = random.Random(start)
    folder.mkdir(parents=True, exist_ok=True)
    units = []
    for i in range(start, start + n):
        code, name, dept = synthetic_unit(i, rng)
        unit = Unit(name, code, YEAR, dept)
        factory.write(folder / f"{code}.xlsx", unit, with_notes(synthetic_inputs(rng, rng.choice(["good", "fair", "poor"]))))
        units.append(unit)
    return units


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=1000, help="returns uploaded over HTTP")
    ap.add_argument("--board-units", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=50, help="files per upload request (the upload page sends 50)")
    ap.add_argument("--parallel", type=int, default=2, help="requests in flight (the upload page keeps 2)")
    ap.add_argument("--time-limit", type=int, default=600, help="seconds before the benchmark gives up")
    args = ap.parse_args()
    deadline = time.time() + args.time_limit
    with tempfile.TemporaryDirectory(prefix="jixiao-bench-web-") as d:
        tmp = Path(d)
        factory = WorkbookFactory()
        print(f"preparing {args.n} returns …", flush=True)
        uploaded = make(tmp / "http", 0, args.n, factory)
        extra = max(0, args.board_units - args.n)
        others = make(tmp / "direct", args.n, extra, factory) if extra else []
        db = tmp / "desk.sqlite"
        Store(db).close()
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--db", str(db), "--port", str(port)],
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=120) as client:
                while True:
                    try:
                        page = client.get("/upload")
                        break
                    except httpx.TransportError:
                        if time.time() > deadline or server.poll() is not None:
                            raise SystemExit("server did not start: " + server.stderr.read().decode()[-500:]) from None
                        time.sleep(0.1)
                token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
                files = sorted((tmp / "http").iterdir())
                def send(chunk: list[Path]) -> int:
                    if time.time() > deadline:
                        raise SystemExit("time limit reached")
                    batch = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in chunk]
                    r = client.post("/upload", data={"csrf": token}, files=batch, headers={"HX-Request": "true"})
                    r.raise_for_status()
                    return len(re.findall(r'<td><span class="pill o-新收">', r.text))

                chunks = [files[i:i + args.batch] for i in range(0, len(files), args.batch)]
                t0 = time.perf_counter()
                with ThreadPoolExecutor(args.parallel) as pool:
                    new = sum(pool.map(send, chunks))
                elapsed = time.perf_counter() - t0
                print(f"upload over HTTP: {len(files)} returns in {elapsed:.1f} s = {len(files) / elapsed:.0f} returns/s "
                      f"(batches of {args.batch}, {args.parallel} in flight; new {new})  goal ≥ 100/s")
                with Store(db) as store:
                    if others:
                        collect([tmp / "direct"], store)
                    ensure_schema(store)
                    save_roster(store, YEAR, uploaded + others + [Unit(f"未报送单位{i}", f"8{i:05d}", YEAR, "区民政局")
                                                                  for i in range(10)])
                times, sizes = [], []
                for _ in range(7):
                    r = client.get(f"/?year={YEAR}")
                    r.raise_for_status()
                    times.append(float(r.headers["server-timing"].split("dur=")[1]))
                    sizes.append(len(r.content))
                units = r.text.count('<td class="name">')
                print(f"回收台账 ({units} units, {sizes[-1] / 1024:.0f} KiB HTML): server time median "
                      f"{statistics.median(times):.0f} ms (min {min(times):.0f}, max {max(times):.0f})  goal ≤ 200 ms")
                r = client.get(f"/?year={YEAR}&state=有错误&sort=total&desc=1")
                print(f"filtered + sorted board: {float(r.headers['server-timing'].split('dur=')[1]):.0f} ms")
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
