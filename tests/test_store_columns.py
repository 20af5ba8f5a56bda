"""What Store.add writes beside the JSON, read back from the submissions row: the totals, grade and finding counts,
a 附件3-1 return's project columns, the JSON texts (Chinese unescaped, other values as text); the value helpers
_int / _float / _text at their edges; signed_issue per form and year."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

import workbook.store as store_mod
from workbook.form.rowform import xiangmu_template
from workbook.form.unit import Unit
from workbook.generate.rows import RowWorkbookFactory
from workbook.read import read_return
from workbook.report import Finding
from workbook.store import Store
from workbook.verify import Verification, verify

from .conftest import seed_inputs
from .helpers import SEED_UNIT, factory, unit_values
from .test_rowform_workbook import full

MTIME = "2021-01-01T00:00:00.000000"
SEED_NAME = "岳阳市岳阳楼区社会保险服务中心"


def _row(s: Store, stored) -> dict:
    return dict(s.db.execute("SELECT * FROM submissions WHERE id = ?", (stored.submission_id,)).fetchone())


def _unit_return(tmp: Path) -> Verification:
    factory().write(tmp / "a.xlsx", SEED_UNIT, unit_values(seed_inputs()))
    return verify(read_return(tmp / "a.xlsx"))


def _project_return(tmp: Path, name: str, project: dict) -> Verification:
    unit = Unit("甲单位", "100001", 2021, "区财政局", project)
    (tmp / name).write_bytes(RowWorkbookFactory(xiangmu_template(), key=None).build(unit, full()))
    return verify(read_return(tmp / name))


def test_the_columns_beside_the_json(tmp_path):
    v = _unit_return(tmp_path)
    # the seed scores 100 (优) and has one warning, the report text's figures (text_mismatch), and no error
    assert [(f.severity, f.code) for f in v.findings if f.severity != "info"] == [("warning", "text_mismatch")]
    with Store(tmp_path / "j.sqlite") as s:
        row = _row(s, s.add(v, str(tmp_path / "a.xlsx"), file_mtime=MTIME))
    assert (row["total"], row["cached_total"], row["grade"]) == (100.0, 100.0, "优")
    assert (row["errors"], row["warnings"], row["unexplained_warnings"]) == (0, 1, 1)
    assert (row["budget_code"], row["unit_name"], row["year"]) == ("200009", SEED_NAME, 2021)
    assert (row["project_code"], row["project_name"], row["project_key"]) == (None, None, "")
    assert (row["template_id"], row["status"], row["is_current"], row["file_mtime"]) == ("jixiao.zhengti", "accepted",
                                                                                        1, MTIME)
    # the JSON keeps Chinese as it is (not \\uXXXX escapes), in both texts
    assert f'"unit_name": "{SEED_NAME}"' in row["return_json"] and '"grade": "优"' in row["report_json"]
    ret, rep = json.loads(row["return_json"]), json.loads(row["report_json"])
    assert ret["unit"]["budget_code"] == "200009" and (rep["total"], rep["errors"], rep["warnings"]) == (100, 0, 1)


def test_counts_of_explained_warnings_and_errors(tmp_path):
    v = _unit_return(tmp_path)
    warning = next(f for f in v.findings if f.severity == "warning")
    v.findings = [dataclasses.replace(f, explained=True) if f is warning else f for f in v.findings] + [
        dataclasses.replace(warning, code="target_deviation", where="benefit"),  # a second warning, unexplained
        Finding("error", "invalid_input", "exp_public", "公用支出为负数")]
    with Store(tmp_path / "j.sqlite") as s:
        stored = s.add(v, str(tmp_path / "a.xlsx"), file_mtime=MTIME)
        row = _row(s, stored)
        again = s.add(v, str(tmp_path / "a2.xlsx"), file_mtime=MTIME)
    assert (again.outcome, again.has_errors) == ("duplicate", True)  # a duplicate keeps its errors
    assert stored.has_errors and (row["errors"], row["warnings"], row["unexplained_warnings"]) == (1, 2, 1)


def test_values_json_cannot_hold_are_stored_as_text(tmp_path):
    v = _unit_return(tmp_path)
    v.ret.inputs["extra_date"] = dt.date(2021, 3, 4)
    v.ret.inputs["extra_decimal"] = Decimal("1.50")
    v.ret.cached["extra_time"] = dt.datetime(2021, 3, 4, 5, 6, 7)
    v.ret.cached["grade"] = dt.datetime(2021, 3, 4)  # a date typed into the 等次 cell
    with Store(tmp_path / "j.sqlite") as s:
        row = _row(s, s.add(v, str(tmp_path / "a.xlsx"), file_mtime=MTIME))
    ret, rep = json.loads(row["return_json"]), json.loads(row["report_json"])
    assert rep["cached_grade"] == "2021-03-04 00:00:00"
    assert (ret["inputs"]["extra_date"], ret["inputs"]["extra_decimal"]) == ("2021-03-04", "1.50")
    assert ret["cached"]["extra_time"] == "2021-03-04 05:06:07"


def test_a_cached_total_that_is_not_a_number_is_stored_blank(tmp_path):
    v = _unit_return(tmp_path)
    v.ret.cached["total_score"] = "100"  # text in the total cell
    with Store(tmp_path / "j.sqlite") as s:
        row = _row(s, s.add(v, str(tmp_path / "a.xlsx"), file_mtime=MTIME))
    assert row["cached_total"] is None and row["total"] == 100.0
    assert json.loads(row["report_json"])["cached_total"] == "100"  # the JSON keeps what the cell held


def test_project_columns_of_a_per_project_return(tmp_path):
    coded = _project_return(tmp_path, "p1.xlsx", {"project_name": " 就业  培训 ", "project_code": " XM 01 "})
    named = _project_return(tmp_path, "p2.xlsx", {"project_name": "信息系统运维", "project_code": None})
    bare = _project_return(tmp_path, "p3.xlsx", {"project_name": "", "project_code": ""})
    with Store(tmp_path / "j.sqlite") as s:
        rows = [_row(s, s.add(v, str(tmp_path / f"p{i}.xlsx"), file_mtime=MTIME))
                for i, v in enumerate((coded, named, bare), 1)]
    # whitespace inside code and name is normalised; the key is the code, else the name, else "#" + return_id
    assert [(r["project_code"], r["project_name"], r["project_key"]) for r in rows[:2]] == [
        ("XM 01", "就业 培训", "XM 01"), (None, "信息系统运维", "信息系统运维")]
    assert (rows[2]["project_code"], rows[2]["project_name"]) == (None, None)
    assert rows[2]["project_key"] == f"#{bare.ret.return_id}" and len(bare.ret.return_id) == 36
    assert all(r["template_id"] == "jixiao.xiangmu" and r["budget_code"] == "100001" for r in rows)


def test_project_identity_read_from_the_meta_sheet_when_the_cells_are_blank(tmp_path):
    v = _project_return(tmp_path, "p1.xlsx", {"project_name": "就业培训", "project_code": "XM01"})
    v.ret.unit = {k: x for k, x in v.ret.unit.items() if k not in ("project_code", "project_name")}
    assert (v.ret.meta["project_code"], v.ret.meta["project_name"]) == ("XM01", "就业培训")
    with Store(tmp_path / "j.sqlite") as s:
        row = _row(s, s.add(v, str(tmp_path / "p1.xlsx"), file_mtime=MTIME))
    assert (row["project_code"], row["project_name"], row["project_key"]) == ("XM01", "就业培训", "XM01")


def test_the_project_cells_win_over_the_meta_sheet(tmp_path):
    v = _project_return(tmp_path, "p1.xlsx", {"project_name": "就业培训", "project_code": "XM01"})
    v.ret.unit = {**v.ret.unit, "project_name": "就业培训（二期）", "project_code": "XM02"}
    with Store(tmp_path / "j.sqlite") as s:
        row = _row(s, s.add(v, str(tmp_path / "p1.xlsx"), file_mtime=MTIME))
    assert (row["project_code"], row["project_name"], row["project_key"]) == ("XM02", "就业培训（二期）", "XM02")


def test_a_return_without_a_sha256_key_falls_back_to_nothing(tmp_path):
    v = _project_return(tmp_path, "p1.xlsx", {"project_name": "", "project_code": ""})
    v.ret.return_id = None
    assert store_mod._project(v.ret)[2] == f"#{v.ret.sha256}"
    v.ret.sha256 = None
    assert store_mod._project(v.ret) == (None, None, "#")


@pytest.mark.parametrize(("value", "expected"), [
    (2021, 2021), ("2021", 2021), (2021.0, 2021), ("", None), (None, None), ("二〇二一", None), ([2021], None)])
def test_int(value, expected):
    assert store_mod._int(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (1, 1.0), (72.25, 72.25), (0, 0.0), (True, None), (False, None), ("72.25", None), (None, None)])
def test_float(value, expected):
    got = store_mod._float(value)
    assert got == expected and (got is None) == (expected is None)
    assert got is None or type(got) is float


@pytest.mark.parametrize(("value", "expected"), [("", None), (None, None), (0, "0"), ("XM01", "XM01"), (12.5, "12.5")])
def test_text(value, expected):
    assert store_mod._text(value) == expected


def test_signed_issue_per_form_and_year(tmp_path):
    base = {"budget_code": "100001", "unit_name": "甲单位", "parent_dept": "区财政局", "template_version": "v"}
    with Store(tmp_path / "j.sqlite") as s:
        s.register([{**base, "return_id": "r1", "year": 2021, "template_id": "jixiao.zhengti"},
                    {**base, "return_id": "r2", "year": 2022, "template_id": "jixiao.xiangmu", "project_code": "XM01",
                     "project_name": "就业培训"},
                    {**base, "return_id": "r3", "year": 2022, "template_id": "jixiao.xiangmu", "project_code": "",
                     "project_name": " 信息系统  运维 "}])
        assert s.signed_issue("100001", 2021) and not s.signed_issue("100001", 2022)  # 2022: only a project form
        assert s.signed_issue("100001", 2022, "jixiao.xiangmu") and not s.signed_issue("100001", 2021, "jixiao.xiangmu")
        assert not s.signed_issue("100002", 2021) and not s.signed_issue("100001", None)
        assert not s.signed_issue("100001", 2022, "jixiao.other")
        issued, s3 = s.issued("r2"), s.issued("r3")
    assert (issued["project_code"], issued["project_name"], issued["project_key"], issued["year"]) == (
        "XM01", "就业培训", "XM01", 2022)
    assert (s3["project_code"], s3["project_name"], s3["project_key"]) == (None, " 信息系统  运维 ", "信息系统 运维")


def _version(tmp: Path, name: str, staff: int) -> Verification:
    factory().write(tmp / name, SEED_UNIT, unit_values({**seed_inputs(), "staff_quota": staff}))
    v = verify(read_return(tmp / name))
    v.ret.saved_at = None  # ordered by the file times given below
    return v


def test_versions_older_newer_equal_held_and_sent_again(tmp_path):
    a, b, c, d = (_version(tmp_path, f"{n}.xlsx", staff) for n, staff in zip("abcd", (40, 39, 38, 37), strict=True))
    t1, t2 = "2021-01-01T00:00:00.000000", "2021-02-01T00:00:00.000000"
    with Store(tmp_path / "j.sqlite") as s:
        first = s.add(a, "a.xlsx", file_mtime=t2)
        older = s.add(b, "b.xlsx", file_mtime=t1)
        assert (first.outcome, older.outcome) == ("new", "older")
        assert older.current["id"] == first.submission_id and older.previous is None
        assert _row(s, older)["is_current"] == 0 and _row(s, older)["superseded_by"] == first.submission_id
        again = s.add(b, "b2.xlsx", file_mtime=t1)  # the older version sent once more
        assert (again.outcome, again.submission_id) == ("duplicate", older.submission_id)
        assert again.note == f"重新报送了旧版本（#{older.submission_id}）；当前仍为 #{first.submission_id}（a.xlsx）"
        assert again.current["id"] == first.submission_id
        same = s.add(a, "a2.xlsx", file_mtime=t2)  # the current one again: no note
        assert (same.outcome, same.submission_id, same.note, same.current) == ("duplicate", first.submission_id, None,
                                                                              None)
        tie = s.add(c, "c.xlsx", file_mtime=t2)  # the same save time as the current one: the later arrival wins
        assert tie.outcome == "updated" and tie.previous["id"] == first.submission_id and tie.current is None
        held = s.add(d, "d.xlsx", hold="身份不符", file_mtime=t2)
        held_again = s.add(d, "d2.xlsx", file_mtime=t2)
        assert (held.outcome, held.note, held_again.outcome, held_again.note) == ("held", "身份不符", "duplicate", "身份不符")
        assert again.has_errors is False and same.has_errors is False
        assert held_again.current is None
        assert [r["id"] for r in s.current(2021)] == [tie.submission_id]


def test_file_time_taken_from_the_file_and_a_missing_budget_code(tmp_path):
    import os

    v = _unit_return(tmp_path)
    os.utime(tmp_path / "a.xlsx", (1609459200, 1609459200))  # 2021-01-01 00:00:00 UTC
    v.ret.unit = {k: x for k, x in v.ret.unit.items() if k != "budget_code"}
    with Store(tmp_path / "j.sqlite") as s:
        row = _row(s, s.add(v, str(tmp_path / "a.xlsx")))
    assert row["file_mtime"] == "2021-01-01T00:00:00.000000" and row["budget_code"] is None


def test_current_owner_names_the_unit_and_the_project(tmp_path):
    coded = _project_return(tmp_path, "p1.xlsx", {"project_name": "", "project_code": "XM01"})
    unit = _unit_return(tmp_path)
    with Store(tmp_path / "j.sqlite") as s:
        s.add(coded, "p1.xlsx", file_mtime=MTIME)
        s.add(unit, "a.xlsx", file_mtime=MTIME)
        assert s.current_owner(coded.ret.return_id, "100002") == "预算编码 100001，项目 XM01"  # no name: the key
        assert s.current_owner(unit.ret.return_id, "100002") == "200009"
        assert s.current_owner(coded.ret.return_id, "100001", "XM01") is None  # its own return
