"""Checks that a mutation probe found unguarded: each test fails if its check is broken.

Template hash, unhidden metadata sheet, extra defined name, the cached-value tolerance,
the per-entry zip-bomb ratio, the 有警告未说明 status, and the district 平均分 /
满分占比 / score bins — the district figures are compared with values worked out by hand.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from decimal import Decimal

import pytest

from workbook.collect import collect
from workbook.consolidate import build_tables
from workbook.form.layout import META
from workbook.generate import Unit
from workbook.read import read_return
from workbook.safety import Rejected, open_safely
from workbook.status import PASSED, UNEXPLAINED, unit_status
from workbook.store import Store
from workbook.verify import _cached_equal, verify

from .conftest import seed_inputs
from .helpers import SEED_UNIT, factory, unit_values


@pytest.fixture(scope="module")
def seed_return(tmp_path_factory):
    p = tmp_path_factory.mktemp("seed") / "seed.xlsx"
    factory().write(p, SEED_UNIT, unit_values(seed_inputs()))
    ret = read_return(p)
    assert not verify(ret).has_errors
    return ret


def _fresh(ret):
    """A copy of a Return whose containers can be changed without touching the fixture."""
    return replace(ret, names=dict(ret.names), sheets=list(ret.sheets), cached=dict(ret.cached))


def _codes(v, code):
    return [f for f in v.findings if f.code == code]


def test_template_hash_mismatch_is_template_modified(seed_return):
    ret = _fresh(seed_return)
    ret.template_hash = "0" * 64
    found = [f for f in _codes(verify(ret), "template_modified") if f.where == "template_hash"]
    assert len(found) == 1 and found[0].severity == "error"
    assert not [f for f in _codes(verify(_fresh(seed_return)), "template_modified") if f.where == "template_hash"]


def test_unhidden_metadata_sheet_is_reported(seed_return):
    """A visible metadata sheet with unchanged contents (a Gnumeric re-save) is a warning, never silent."""
    ret = _fresh(seed_return)
    assert (META, "visible") not in ret.sheets
    ret.sheets = [(n, "visible" if n == META else s) for n, s in ret.sheets]
    found = _codes(verify(ret), "metadata_unhidden")
    assert len(found) == 1 and found[0].severity == "warning" and "取消隐藏" in found[0].message
    ret.sheets = [(n, "bogus" if n == META else s) for n, s in ret.sheets]
    assert any(f.where == META for f in _codes(verify(ret), "template_modified"))


def test_extra_defined_name_is_template_modified_but_excel_own_names_are_not(seed_return):
    ret = _fresh(seed_return)
    ret.names["payload"] = "评分数据!$A$1"
    ret.names["_xlnm.Print_Area"] = "评分数据!$A$1:$B$2"
    found = _codes(verify(ret), "template_modified")
    assert [f.where for f in found] == ["payload"]


@pytest.mark.parametrize(("delta", "mismatch"), [(Decimal("0.004"), False), (Decimal("0.006"), True),
                                                  (Decimal("-0.006"), True), (Decimal("0.5"), True)])
def test_cached_value_tolerance_is_half_a_cent(seed_return, delta, mismatch):
    ret = _fresh(seed_return)
    ret.cached["total_score"] = float(Decimal("100") + delta)
    assert bool(_codes(verify(ret), "score_mismatch")) is mismatch
    assert _cached_equal(100.004, Decimal("100")) and not _cached_equal(100.006, Decimal("100"))


def test_zip_bomb_ratio_is_checked_per_entry():
    """One 2 MiB entry of zeros (ratio ~1000:1) is refused by the ratio, well under the size limits."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types xmlns='spreadsheetml'/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (2 * 1024 * 1024))
    data = buf.getvalue()
    assert len(data) < 100_000
    with pytest.raises(Rejected) as exc:
        open_safely("bomb.xlsx", data)
    assert "压缩比" in exc.value.reason and "sheet1.xml" in exc.value.reason


def test_a_large_but_ordinary_entry_passes_the_ratio_check():
    import random

    rng = random.Random(1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types>spreadsheetml</Types>")
        zf.writestr("xl/sharedStrings.xml", bytes(rng.getrandbits(8) for _ in range(1_200_000)))
    open_safely("big.xlsx", buf.getvalue())  # no exception


def _store_returns(tmp_path, variants: dict[str, dict]) -> Store:
    """Returns issued as the bureau issues them (signed with the store's key and registered), then collected."""
    import uuid

    from workbook.generate import WorkbookFactory

    store = Store(tmp_path / "j.sqlite")
    signer = WorkbookFactory(key=store.key)
    issued = []
    for code, changes in variants.items():
        p = tmp_path / f"{code}.xlsx"
        unit = Unit(f"单位{code}", code, 2021, "区人社局")
        rid = str(uuid.uuid4())
        issued.append({"return_id": rid, "budget_code": code, "unit_name": unit.unit_name, "parent_dept": unit.parent_dept,
                       "year": 2021, "template_id": signer.template.id, "template_version": signer.template.version,
                       "file": str(p)})
        signer.write(p, unit, unit_values({**seed_inputs(), **changes}), return_id=rid)
    store.register(issued)
    collect(sorted(tmp_path.glob("*.xlsx")), store, workers=1)
    return store


def test_unexplained_warning_status(tmp_path):
    explained = {"staff_quota": 39, "note_staff_control": "年中接收安置人员",
                 "explain_staff_exceeds_quota": "编制调整已报编办"}
    with _store_returns(tmp_path, {"100001": {}, "100002": explained}) as store:
        states = {s.budget_code: s for s in unit_status(store, 2021)}
    # the seed's prose says 编制39人 against 50 in the table: a warning nobody explained
    assert states["100001"].state == UNEXPLAINED and states["100001"].unexplained_warnings >= 1
    assert states["100002"].state == PASSED and states["100002"].unexplained_warnings == 0
    assert states["100002"].errors == 0


def test_district_figures_by_hand(tmp_path):
    """Totals 100, 95, 90, 89.5, 59 and 99.5 (benefit 15/5/4.5/14.5 points, see test_engine), worked out by hand."""
    worst = dict(benefit_score=0, duty_xinzengji=0, duty_xiaokang=0, duty_gov_report=0, duty_other=0,
                 satisfaction_rate=0)
    variants = {"100001": {}, "100002": {"staff_quota": 39}, "100003": {"benefit_score": 5},
                "100004": {"benefit_score": 4.5}, "100005": worst, "100006": {"benefit_score": 14.5}}
    with _store_returns(tmp_path, variants) as store:
        tables = build_tables(store.iter_current(2021), 2021)
    totals = sorted(tables.frames["汇总"]["总分"].tolist())
    assert totals == [59, 89.5, 90, 95, 99.5, 100]
    dept = tables.frames["分部门汇总"]
    for _, row in dept.iterrows():  # one department, then the district row: the same six units
        assert row["计入单位数"] == 6 and row["平均分"] == 88.83 and row["最低分"] == 59 and row["最高分"] == 100
        assert (row["优"], row["良"], row["中"], row["差"]) == (4, 1, 0, 1)
    ind = tables.frames["指标分析"].set_index("三级指标")
    staff = ind.loc["财政供养人员控制率"]  # 5 points everywhere but the unit with quota 39 (0)
    assert staff["满分占比"] == pytest.approx(5 / 6) and staff["平均得分"] == 4.17 and staff["最低"] == 0
    benefit = ind.loc["经济效益·社会效益·生态效益"]  # 15 in two units; 14.5 is not full marks
    assert benefit["满分占比"] == pytest.approx(2 / 6) and benefit["最低"] == 0 and benefit["最高"] == 15
    assert tables.score_bins == [("<60", 1), ("60–70", 0), ("70–80", 0), ("80–90", 1), ("90–95", 1),
                                 ("95–100", 3)]
    assert tables.grade_counts == {"优": 4, "良": 1, "中": 0, "差": 1}
