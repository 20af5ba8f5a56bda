"""Shared data for the web desk tests: a roster and a folder of returns (good, tampered, blank, hostile)."""

from __future__ import annotations

import csv
import random
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import seed_inputs
from tests.helpers import unit_values
from workbook.fill import cell_style, set_cell_xml
from workbook.form.roster import safe_filename
from workbook.generate import Unit, WorkbookFactory
from workbook.read import read_return
from workbook.store import Store
from workbook.synthetic import synthetic_inputs, with_notes

YEAR = 2021
HOSTILE_NAME = "<script>alert(1)</script>事务中心"
HOSTILE_DEPT = '=HYPERLINK("http://evil.example","点我")'


TEST_KEY = "5a" * 32  # the bureau key the test returns are signed with


@dataclass
class Desk:
    roster: Path
    units: dict[str, Unit]
    returns: dict[str, Path]  # good, tampered, blank, hostile, text, corrected
    issued: list[dict] = field(default_factory=list)  # the register rows of the returns' workbooks

    def prepare(self, db: Path) -> None:
        """A store that issued these returns' workbooks: the test key and the register."""
        db.parent.mkdir(parents=True, exist_ok=True)
        with Store(db) as store:
            store.set_key(TEST_KEY)
            store.register(self.issued)


def _units() -> dict[str, Unit]:
    seed = seed_inputs()
    return {
        "good": Unit(seed["unit_name"], "200009", YEAR, seed["parent_dept"]),
        "tampered": Unit("合成单位0001事务中心（演示）", "900001", YEAR, "区卫生健康局"),
        "blank": Unit("合成单位0002保障中心（演示）", "900002", YEAR, "区民政局"),
        "hostile": Unit(HOSTILE_NAME, "900003", YEAR, HOSTILE_DEPT),
        "silent": Unit("合成单位0004管理所（演示）", "900004", YEAR, "区民政局"),
    }


def tamper_total(data: bytes) -> bytes:
    """The total score formula replaced by the constant 100 (as a unit might do)."""
    ret = read_return("x.xlsx", data)
    sheet, ref = ret.names["total_score"].split("!")
    ref = ref.replace("$", "")
    return set_cell_xml(data, sheet, ref, f'<c r="{ref}"{cell_style(data, sheet, ref)}><v>100</v></c>')


def build_desk(folder: Path) -> Desk:
    folder.mkdir(parents=True, exist_ok=True)
    units = _units()
    roster = folder / "花名册.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["预算编码", "单位名称", "主管部门"])
        for u in units.values():
            w.writerow([u.budget_code, u.unit_name, u.parent_dept])
    rng = random.Random(8)
    f = WorkbookFactory(key=TEST_KEY)
    ids = {kind: str(uuid.uuid4()) for kind in units}
    issued = [{"return_id": ids[k], "budget_code": u.budget_code, "unit_name": u.unit_name,
               "parent_dept": u.parent_dept, "year": u.year, "template_id": f.template.id,
               "template_version": f.template.version, "file": safe_filename(u)} for k, u in units.items()]
    out = folder / "returns"
    out.mkdir(exist_ok=True)

    def write(kind: str, data: bytes, name: str | None = None) -> Path:
        p = out / (name or safe_filename(units[kind]))
        p.write_bytes(data)
        return p

    def build(kind: str, values: dict) -> bytes:
        return f.build(units[kind], values, return_id=ids[kind])

    returns = {"good": write("good", build("good", unit_values(seed_inputs())))}
    returns["tampered"] = write("tampered", tamper_total(build("tampered", with_notes(synthetic_inputs(rng, "fair")))))
    blank = with_notes(synthetic_inputs(rng, "good"))
    blank["card_paid"] = None
    returns["blank"] = write("blank", build("blank", blank))
    returns["corrected"] = write("blank", build("blank", with_notes(synthetic_inputs(rng, "good"))), "900002-更正.xlsx")
    returns["hostile"] = write("hostile", build("hostile", with_notes(synthetic_inputs(rng, "good"))),
                               "900003-hostile.xlsx")
    returns["text"] = out / "200999-其实是文本.xlsx"
    returns["text"].write_text("这不是工作簿。", encoding="utf-8")
    return Desk(roster, units, returns, issued)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)
