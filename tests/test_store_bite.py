"""store.py details that mutation testing found unchecked: the version order, read-only opening, the rejection
register (seen twice, replaced), history by form, counts of an empty and a used store, the prior-year prefill."""

from __future__ import annotations

import sqlite3

import pytest

import workbook.store as store_mod
from workbook.collect import collect
from workbook.store import ALL_FORMS, Store, StoreError, save_key

from .conftest import seed_inputs
from .helpers import SEED_UNIT, factory, unit_values


def test_save_key_orders_by_save_time_then_file_time():
    assert save_key("2021-05-01T10:00:00Z", "2021-05-02T00:00:00.000001") == (
        "2021-05-01T10:00:00", "2021-05-02T00:00:00.000001")  # seconds of the save time; the mtime in full
    assert save_key(None, "2021-05-02T00:00:00.123456") == ("2021-05-02T00:00:00", "2021-05-02T00:00:00.123456")
    assert save_key("", None) == ("", "") and save_key(None, None) == ("", "")


@pytest.fixture
def used(tmp_path):
    """A store after two collects: the seed return, and a broken file sent twice under one name."""
    folder = tmp_path / "in"
    folder.mkdir()
    factory().write(folder / "a.xlsx", SEED_UNIT, unit_values(seed_inputs()))
    (folder / "b.xlsx").write_bytes(b"not a workbook")
    with Store(tmp_path / "j.sqlite") as s:
        collect([folder], s, workers=1)
        collect([folder], s, workers=1)
    return tmp_path


def test_rejections_are_counted_per_file_and_cleared_by_a_good_return(used):
    with Store(used / "j.sqlite") as s:
        rows = s.rejected()
        assert [(r["source_path"], r["times"], r["replaced_by"]) for r in rows] == [(str(used / "in" / "b.xlsx"), 2, None)]
        assert len(s.rejected(outstanding=True)) == 1
        assert s.counts() == {"files": 1, "accepted": 1, "held": 0, "current": 1, "sightings": 2, "rejected": 1}
    factory().write(used / "in" / "b.xlsx", SEED_UNIT, unit_values({**seed_inputs(), "staff_quota": 39}))
    with Store(used / "j.sqlite") as s:
        collect([used / "in"], s, workers=1)
        assert s.rejected(outstanding=True) == []  # replaced by a good return at the same path
        assert len(s.rejected()) == 1 and s.rejected()[0]["replaced_by"] is not None  # still listed by default


def test_empty_store_counts_zero(tmp_path):
    with Store(tmp_path / "new.sqlite") as s:
        assert s.counts() == {"files": 0, "accepted": 0, "held": 0, "current": 0, "sightings": 0, "rejected": 0}
        assert s.rejected() == [] and s.held() == [] and s.prior_year_prefill("200009", 2021) == {}


def test_history_by_form(used):
    with Store(used / "j.sqlite", readonly=True) as s:
        assert [r["budget_code"] for r in s.history(SEED_UNIT.budget_code)] == ["200009"]
        assert [r["budget_code"] for r in s.history(SEED_UNIT.budget_code, form=ALL_FORMS)] == ["200009"]
        assert s.history(SEED_UNIT.budget_code, form="jixiao.xiangmu") == []  # no 附件3-1 return of this unit
        assert s.history(SEED_UNIT.budget_code, year=2020) == []


def test_prior_year_prefill_from_the_current_return(used):
    with Store(used / "j.sqlite", readonly=True) as s:
        # the seed: 本年三公经费预算数 0, 三公经费合计 0, 累计结余 blank (not carried over)
        assert s.prior_year_prefill("200009", 2021) == {"sangong_prior_budget": 0, "sangong_prior_actual": 0}
        assert s.prior_year_prefill("200009", 2022) == {}


def test_read_only_store_never_writes(used):
    with Store(used / "j.sqlite", readonly=True) as s:
        with pytest.raises(sqlite3.OperationalError):
            s.db.execute("DELETE FROM rejections")
        assert s.counts()["rejected"] == 1


def test_read_only_opening_refuses_empty_and_foreign_files(tmp_path):
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    empty.write_bytes(b"")
    with pytest.raises(StoreError) as exc:
        Store(empty, readonly=True)
    assert str(exc.value) == f"数据库 {empty} 是空的（先用 jixiao collect 收集报表），未作任何改动"
    foreign = tmp_path / "other.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE photos (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(StoreError) as exc:
        Store(foreign, readonly=True)
    assert str(exc.value).startswith(f"{foreign} 不是 jixiao 数据库（其中是其他程序的表：photos）")


def test_a_current_store_on_a_read_only_file_opens_for_reading(used, monkeypatch):
    monkeypatch.setattr(store_mod.os, "access", lambda *a, **k: False)  # as if the file were read-only
    with Store(used / "j.sqlite", readonly=True) as s:
        assert s.counts()["files"] == 1  # no upgrade needed, so none is attempted


def test_register_keeps_every_field_of_an_issued_workbook(tmp_path):
    with Store(tmp_path / "j.sqlite") as s:
        assert s.register([
            {"return_id": "r-1", "budget_code": "300001", "unit_name": "某中心", "parent_dept": "某局", "year": "2021",
             "template_id": "jixiao.xiangmu", "template_version": "2021.1", "file": "out/某中心.xlsx",
             "project_code": "P01", "project_name": "道路 维修"},
            {"return_id": "r-2", "budget_code": "300002", "year": 2021, "template_id": "jixiao.zhengti",
             "template_version": "2021.3"}]) == 2
        one = s.issued("r-1")
        assert {k: one[k] for k in ("budget_code", "unit_name", "parent_dept", "year", "file", "project_code",
                                    "project_name")} == {
            "budget_code": "300001", "unit_name": "某中心", "parent_dept": "某局", "year": 2021,
            "file": "out/某中心.xlsx", "project_code": "P01", "project_name": "道路 维修"}
        assert one["project_key"] == "P01"  # the project code keys the project
        two = s.issued("r-2")
        assert (two["unit_name"], two["file"], two["project_code"], two["project_key"]) == (None, None, None, "")
        assert s.signed_issue("300001", 2021, form="jixiao.xiangmu") and not s.signed_issue("300001", 2021)
        assert s.signed_issue("300002", 2021) and s.issued("r-3") is None


def test_a_newer_version_names_the_one_it_replaced(tmp_path):
    from workbook.read import read_return
    from workbook.verify import verify

    first, second = tmp_path / "v1.xlsx", tmp_path / "v2.xlsx"
    factory().write(first, SEED_UNIT, unit_values(seed_inputs()))
    factory().write(second, SEED_UNIT, unit_values({**seed_inputs(), "staff_quota": 39}))
    with Store(tmp_path / "j.sqlite") as s:
        a = s.add(verify(read_return(first)), str(first), file_mtime="2022-01-01T00:00:00.000000")
        b = s.add(verify(read_return(second)), str(second), file_mtime="2022-01-02T00:00:00.000000")
        assert (a.outcome, a.previous, b.outcome) == ("new", None, "updated")
        assert b.previous["id"] == a.submission_id and b.previous["source_path"] == str(first)
        assert b.previous["budget_code"] == "200009" and b.previous["year"] == 2021
        assert b.previous["file_mtime"] == "2022-01-01T00:00:00.000000" and b.previous["project_key"] == ""


def test_a_rejected_file_and_a_held_return_as_stored(tmp_path):
    from workbook.read import read_return
    from workbook.verify import verify

    bad, good = tmp_path / "bad.xlsx", tmp_path / "good.xlsx"
    bad.write_bytes(b"not a workbook")
    factory().write(good, SEED_UNIT, unit_values(seed_inputs()))
    with Store(tmp_path / "j.sqlite") as s:
        first = s.add(verify(read_return(bad)), str(bad))
        again = s.add(verify(read_return(bad)), str(bad))
        assert (first.outcome, first.has_errors, first.note) == ("rejected", True, None)
        assert (again.outcome, again.submission_id, again.has_errors, again.note) == (
            "rejected", first.submission_id, True, "之前已拒收")
        assert first.submission_id == s.rejected()[0]["id"]
        held = s.add(verify(read_return(good)), str(good), hold="预算编码与登记不符")
        assert held.outcome == "held"
        assert [(r["id"], r["source_path"], r["budget_code"], r["hold"]) for r in s.held()] == [
            (held.submission_id, str(good), "200009", "预算编码与登记不符")]
        assert s.held(2020) == [] and s.current(2021) == []  # held: never current


def test_a_project_without_a_code_is_keyed_by_its_name(tmp_path):
    with Store(tmp_path / "j.sqlite") as s:
        s.register([{"return_id": "r-9", "budget_code": "300001", "year": 2021, "template_id": "jixiao.xiangmu",
                     "template_version": "2021.1", "project_name": " 桥梁  养护 "}])
        row = s.issued("r-9")
        assert (row["project_code"], row["project_name"], row["project_key"]) == (None, " 桥梁  养护 ", "桥梁 养护")


def test_file_times_are_recorded_in_utc(tmp_path, monkeypatch):
    import os
    import time

    from workbook.store import mtime_text

    p = tmp_path / "a.xlsx"
    p.write_bytes(b"x")
    os.utime(p, (1_600_000_000.5, 1_600_000_000.5))
    monkeypatch.setenv("TZ", "Asia/Shanghai")  # the machine's own zone must not matter
    time.tzset()
    try:
        assert mtime_text(p) == "2020-09-13T12:26:40.500000"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert mtime_text(tmp_path / "missing.xlsx") is None


def test_issuance_answers_from_this_store(used):
    with Store(used / "j.sqlite") as s:
        s.register([{"return_id": "r-1", "budget_code": "300001", "year": 2021, "template_id": "jixiao.zhengti",
                     "template_version": "2021.3"}])
        rid = s.current(2021)[0]["return_id"]
        iss = s.issuance()
        assert iss.key == s.key and len(iss.key) >= 32
        assert iss.issued("r-1")["budget_code"] == "300001" and iss.issued("r-2") is None
        assert iss.signed_issue("300001", 2021) and not iss.signed_issue("300001", 2020)
        assert iss.current_owner(rid, "200009") is None  # its own current return
        assert iss.current_owner(rid, "999999") == "200009"  # already another unit's current return
        assert s.current_owner(rid, "200009") is None


def test_the_stored_return_keeps_what_was_read(tmp_path):
    import hashlib

    from workbook.read import read_return
    from workbook.verify import verify

    good = tmp_path / "good.xlsx"
    factory().write(good, SEED_UNIT, unit_values(seed_inputs()))
    ret = read_return(good)
    with Store(tmp_path / "j.sqlite") as s:
        s.add(verify(ret), str(good))
        stored = s.current(2021)[0]["return"]
        assert set(stored) == {"file", "sha256", "template", "return_id", "unit", "inputs", "notes", "explanations",
                               "tables", "cached"}
        assert stored["file"] == str(good) and stored["sha256"] == hashlib.sha256(good.read_bytes()).hexdigest()
        assert stored["template"] == {"id": ret.template_id, "version": ret.template_version}
        assert stored["return_id"] == ret.return_id and stored["unit"]["budget_code"] == "200009"
        assert stored["inputs"]["staff_quota"] == 50 and stored["notes"] == ret.notes
        assert stored["cached"]["total_score"] == float(ret.cached["total_score"])
        assert stored["cached"]["grade"] == ret.cached["grade"]


def test_rejection_reasons_and_one_record_per_content(tmp_path):
    import xlsxwriter as xw

    from workbook.read import read_return
    from workbook.verify import verify

    bad = tmp_path / "bad.xlsx"
    with Store(tmp_path / "j.sqlite") as s:
        bad.write_bytes(b"not a workbook")
        s.add(verify(read_return(bad)), str(bad))
        bad.write_bytes(b"still not a workbook")  # other content at the same path: another rejection
        s.add(verify(read_return(bad)), str(bad))
        plain = tmp_path / "plain.xlsx"
        wb = xw.Workbook(plain)
        wb.add_worksheet().write_string(0, 0, "x")
        wb.close()
        s.add(verify(read_return(plain)), str(plain))
        reasons = [r["reason"] for r in s.rejected()]
        assert reasons[0] == reasons[1] and reasons[0].startswith("不是 .xlsx 文件")
        assert reasons[2] == "不是本系统能识别的自评表：没有 jixiao 模板标识"
