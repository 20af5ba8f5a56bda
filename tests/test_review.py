"""Library side of the desk: review state and audit log, the board, uploads taken in, originals, 复核提示."""

from __future__ import annotations

import io
import sqlite3
import time
import zipfile

import pytest

from tests.web_support import YEAR, build_desk
from workbook import board, review, rosters
from workbook.form.roster import read_roster
from workbook.hints import hints
from workbook.intake import Incoming, expand_zip, plausible_mtime, take_in
from workbook.originals import Originals
from workbook.store import Store


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    return build_desk(tmp_path_factory.mktemp("lib"))


@pytest.fixture
def store(tmp_path, desk):
    desk.prepare(tmp_path / "s.sqlite")
    s = Store(tmp_path / "s.sqlite")
    review.ensure_schema(s)
    rosters.ensure_schema(s)
    yield s
    s.close()


def take(store, tmp_path, *paths, dry_run=False):
    return take_in([Incoming(p.name, p.read_bytes()) for p in paths], store, Originals(tmp_path / "o"), "测试员",
                   dry_run=dry_run, workers=2)


def test_take_in_keeps_originals_by_hash_and_logs(store, desk, tmp_path):
    fates = take(store, tmp_path, desk.returns["good"], desk.returns["text"], desk.returns["good"])
    assert [f.outcome for f in fates] == ["new", "rejected", "duplicate"]
    assert fates[0].sha256 and Originals(tmp_path / "o").get(fates[0].sha256) == desk.returns["good"].read_bytes()
    assert Originals(tmp_path / "o").path("../../etc/passwd") is None
    row = store.db.execute("SELECT source_path FROM submissions WHERE sha256 = ?", (fates[0].sha256,)).fetchone()
    assert row["source_path"] == desk.returns["good"].name  # the sender's name is recorded, never used as a path
    log = review.entries(store)
    assert [e["action"] for e in log] == ["upload"] * 3 and {e["who"] for e in log} == {"测试员"}
    dry = take(store, tmp_path, desk.returns["blank"], dry_run=True)
    assert dry[0].outcome == "checked" and dry[0].errors == 1
    assert store.db.execute("SELECT COUNT(*) FROM submissions WHERE budget_code = '900002'").fetchone()[0] == 0


def test_expand_zip_limits():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a/1.xlsx", b"x" * 10)
        zf.writestr("a/big.xlsx", b"y" * 5000)
        zf.writestr("a/", b"")
        zf.writestr("~$lock.xlsx", b"")
    items = expand_zip("收.zip", buf.getvalue(), max_file=1000)
    assert [(i.name, i.refused is None) for i in items] == [("收.zip/a/1.xlsx", True), ("收.zip/a/big.xlsx", False)]
    assert "文件过大" in items[1].refused
    assert expand_zip("x.zip", buf.getvalue(), max_members=1)[0].refused.startswith("压缩包内文件过多")
    assert expand_zip("x.zip", b"not a zip")[0].refused.startswith("压缩包无法打开")
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/\x07passwd.xlsx", b"x")
    assert [i.name for i in expand_zip("收.zip", evil.getvalue())] == ["收.zip/etc/_passwd.xlsx"]
    dated = io.BytesIO()
    with zipfile.ZipFile(dated, "w") as zf:
        zf.writestr(zipfile.ZipInfo("a.xlsx", date_time=(2022, 3, 1, 9, 30, 0)), b"x")
    mtime = expand_zip("d.zip", dated.getvalue())[0].mtime
    assert mtime and time.localtime(mtime)[:5] == (2022, 3, 1, 9, 30)  # the sender's save time travels with it
    assert plausible_mtime(0) is None and plausible_mtime(time.time() + 10**7) is None


def test_review_transitions_and_append_only_log(store, desk, tmp_path):
    take(store, tmp_path, desk.returns["blank"], desk.returns["good"])
    with pytest.raises(review.ReviewError) as e:
        review.decide(store, YEAR, "900002", review.APPROVE, "甲")
    assert e.value.status == 409
    with pytest.raises(review.ReviewError) as e:
        review.decide(store, YEAR, "999999", review.RETURN, "甲", "x")
    assert e.value.status == 404
    with pytest.raises(review.ReviewError) as e:
        review.decide(store, YEAR, "900002", review.RETURN, "甲", "x" * (review.MAX_REASON + 1))
    assert e.value.status == 400
    assert review.decide(store, YEAR, "900002", review.RETURN, "甲", "请补填").state == review.RETURNED
    assert review.decide(store, YEAR, "200009", review.APPROVE, "乙").state == review.APPROVED
    take(store, tmp_path, desk.returns["corrected"])
    r = review.review_of(store, YEAR, "900002")
    assert r.state == review.PENDING and not r.changed  # back to 待审核 after a 退回: a correction, not a change
    with pytest.raises(sqlite3.DatabaseError):
        store.db.execute("DELETE FROM audit_log")
    states = review.reviews(store, YEAR)
    assert states["200009"].state == review.APPROVED and states["200009"].who == "乙"


def test_board_rows_counts_and_select(store, desk, tmp_path):
    rosters.save_roster(store, YEAR, read_roster(desk.roster, YEAR))
    take(store, tmp_path, desk.returns["good"], desk.returns["tampered"], desk.returns["blank"])
    rows = board.board(store, YEAR)
    assert [r.budget_code for r in rows] == ["200009", "900001", "900002", "900003", "900004"]
    c = board.counts(rows)
    assert (c.due, c.reported, c.missing, c.pending) == (5, 3, 2, 3)
    assert [r.budget_code for r in board.select(rows, has_errors=True)] == ["900001", "900002"]
    assert [r.budget_code for r in board.select(rows, q="<SCRIPT>")] == ["900003"]
    by_total = board.select(rows, sort="total", descending=True)
    assert by_total[0].total >= by_total[1].total >= by_total[2].total
    assert board.select(rows, sort="no-such-key") == board.select(rows)
    tampered = next(r for r in rows if r.budget_code == "900001")
    assert tampered.claimed_total == 100 and tampered.total < 100 and tampered.submissions == 1


def test_hints_flag_claims_and_copied_prose(store, desk, tmp_path):
    take(store, tmp_path, desk.returns["tampered"], desk.returns["hostile"], desk.returns["good"])
    rows = {r["budget_code"]: r for r in store.current(YEAR)}
    titles = {code: [h.title for h in hints(store, row)] for code, row in rows.items()}
    assert "自报高分但复算扣分" in titles["900001"]
    assert "报告文字与表格矛盾" in titles["200009"]  # the seed's “编制39人” against 50 in the table
    assert "自报高分但复算扣分" not in titles["200009"]
