"""A sample of edited returns recalculated in LibreOffice: a clean verdict never stands beside a
different shown total.

The sample is every non-rejected case of test_reader_shows plus randomly mutated returns from the
differential test.  LibreOffice (headless, always recalculating) is the reference for what a person
sees; whenever jixiao finds no error, the total LibreOffice shows must be jixiao's recomputed total.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbook.libreoffice import recalculate
from workbook.read import read_return
from workbook.verify import verify

from .conftest import require_soffice
from .helpers import named_values
from .test_reader_differential import mutation
from .test_reader_differential import seed as mutated_seed
from .test_reader_shows import CASES, seed

pytestmark = pytest.mark.libreoffice


def random_mutations(n: int) -> list[list]:
    out: list[list] = []

    @settings(max_examples=n, database=None, derandomize=True, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(mutation(), min_size=1, max_size=2))
    def collect(mutations):
        out.append(mutations)

    collect()
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    require_soffice()
    work = tmp_path_factory.mktemp("lo_reader")
    files: list[tuple[Path, object]] = []
    base = seed()
    for name, (build, _) in CASES.items():
        files.append((work / f"{name}.xlsx", build(base)))
    for i, mutations in enumerate(random_mutations(24)):
        data = mutated_seed()
        for _, apply in sorted({k: m for k, m in mutations}.items(), key=lambda m: m[0] == "move_sst"):
            data = apply(data)
        files.append((work / f"random{i:02d}.xlsx", data))
    verdicts = {}
    for path, data in files:
        path.write_bytes(data)
        verdicts[path] = verify(read_return(path))
    readable = [p for p, v in verdicts.items() if not v.rejected]
    outs = recalculate(readable, work / "out")
    return [(p, verdicts[p], o) for p, o in zip(readable, outs, strict=True)]


def test_clean_verdict_matches_the_total_libreoffice_shows(sample):
    clean = 0
    problems = []
    for path, v, after in sample:
        if v.has_errors:
            continue
        clean += 1
        shown = named_values(after)["total_score"]
        if not isinstance(shown, (int, float)) or abs(Decimal(repr(float(shown))) - v.report.total) >= Decimal("0.005"):
            problems.append(f"{path.name}: jixiao clean with total {v.report.total}, LibreOffice shows {shown!r}")
    assert clean >= 5  # the untouched and legitimate cases at least
    assert not problems, "\n".join(problems)
