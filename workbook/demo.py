"""The whole chain on built-in data: roster → workbooks → returns → collect → status → consolidate.

The roster holds the seed unit (岳阳楼区社会保险服务中心, from the real 2021 return) and
synthetic units, clearly labelled 合成/演示.  Units' replies are simulated by filling the
generated workbooks: full marks, deductions, a blank input, an unexplained warning, a
resubmission, one tampered return, one hostile file, and one unit that never answers.
"""

from __future__ import annotations

import csv
import json
import os
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from templates import zhengti_samples as samples  # the form's sample data and scenario edits

from .collect import CollectSummary, collect
from .consolidate import Tables, consolidate
from .crossform import unit_project_key
from .fill import cell_style, set_cell_xml
from .form.roster import read_roster, safe_filename
from .generate import Unit, WorkbookFactory
from .generate.batch import generate_batch
from .outputs import OutputError, os_error_zh, prepare_dir
from .read import read_return
from .status import UnitStatus, unit_status
from .store import Store
from .synthetic import synthetic_inputs, synthetic_unit, with_notes

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
YEAR = 2021


@dataclass
class DemoResult:
    out_dir: Path
    roster: Path
    workbooks: Path
    returns: Path
    db: Path
    district: Path
    csv_dir: Path
    collected: CollectSummary
    status: list[UnitStatus]
    tables: Tables
    scenarios: dict[str, str] = field(default_factory=dict)  # file name -> what it demonstrates
    projects: Any = None  # demo_projects.ProjectDemo: the 附件3-1 roster, workbooks and returns


def seed_inputs() -> dict[str, Any]:
    data = json.loads((SAMPLES / "seed_inputs.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


MARKER = ".jixiao-demo"  # written first into a folder the demo creates; only such a folder is reused


def demo_folder(out_dir: str | Path) -> Path:
    """The demo's folder: new, empty, or one the demo made before (never a folder holding other files)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(out, f"{out} 是一个文件，不是文件夹；请用 --out-dir 指定一个新的文件夹")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputError(out, f"{out} 不是空文件夹，也不是 jixiao 演示建立的文件夹；为免覆盖其中的文件，"
                               "演示不会写入这里。请用 --out-dir 指定一个新的或空的文件夹")
    prepare_dir(out)
    try:
        (out / MARKER).write_text("jixiao demo\n", encoding="utf-8")
    except OSError as exc:
        raise OutputError(out, f"无法写入文件夹 {out}：{os_error_zh(exc)}") from exc
    return out.resolve()


def run_demo(out_dir: str | Path, step: Callable[[str], None] = lambda s: None, units: int = 11) -> DemoResult:
    out = demo_folder(out_dir)
    rng = random.Random(YEAR)
    seed = seed_inputs()

    # 1. roster
    roster_path = out / "花名册.csv"
    rows = [("200009", seed["unit_name"], seed["parent_dept"])]
    rows += [synthetic_unit(i, rng) for i in range(1, units + 1)]
    with roster_path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["预算编码", "单位名称", "主管部门"])
        w.writerows(rows)
    roster = read_roster(roster_path, YEAR)
    step(f"花名册：{roster_path}（{len(roster)} 个单位，其中 {len(roster) - 1} 个为合成演示单位）")

    # 2. generate: every workbook registered in the store and signed with the bureau key
    db = out / "jixiao.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    with Store(db) as store:
        factory = WorkbookFactory(key=store.key)
        workbooks = out / "1-下发工作簿"
        issued: list[dict[str, Any]] = []

        def issue(unit: Unit, path: Path) -> str:
            rid = str(uuid.uuid4())
            issued.append({"return_id": rid, "budget_code": unit.budget_code, "unit_name": unit.unit_name,
                           "parent_dept": unit.parent_dept, "year": unit.year, "template_id": factory.template.id,
                           "template_version": factory.template.version, "file": str(path)})
            return rid

        generate_batch(roster, workbooks, factory, return_id=issue, force=True)  # the demo's own folder
        store.register(issued)
    step(f"已生成 {len(roster)} 个锁定的填报工作簿，已登记并签名：{workbooks}")

    # 3. simulate the units' replies
    returns = out / "2-报回文件"
    returns.mkdir(exist_ok=True)
    scenarios: dict[str, str] = {}

    spend: dict[str, Any] = {}  # each unit's 附件3-2 项目支出 as sent: its projects (附件3-1) are budgeted within it
    spend_key = unit_project_key()

    def reply(unit: Unit, values: dict[str, Any], name: str | None = None) -> Path:
        """The unit's filled workbook as its spreadsheet program saves it (recalculated)."""
        spend[unit.budget_code] = values.get(spend_key)
        return_id = read_return(workbooks / safe_filename(unit)).return_id
        data = factory.build(unit, {k: v for k, v in values.items() if k not in unit.identity()}, return_id=return_id)
        p = returns / (name or safe_filename(unit))
        p.write_bytes(data)
        return p

    seed_unit, synth = roster[0], roster[1:]
    p = reply(seed_unit, seed)
    scenarios[p.name] = "种子单位（真实 2021 年报告数据）：满分 100 分，报告文字“编制39人”与表中 50 人不符（警告未说明）"
    plan = ["good", "good", "good", "fair", "fair", "poor", "blank", "explained", "tampered", "resubmit", "silent"]
    for unit, kind in zip(synth, plan, strict=False):
        quality = {"fair": "fair", "poor": "poor", "tampered": "fair", "resubmit": "fair"}.get(kind, "good")
        inputs = synthetic_inputs(rng, quality)
        if kind == "silent":
            scenarios[safe_filename(unit)] = "未报送：该单位没有交回工作簿"
            continue
        if kind == "blank":
            inputs = with_notes(inputs)
            what = samples.leave_required_blank(inputs)
            p = reply(unit, inputs)
            scenarios[p.name] = what
            continue
        if kind == "explained":
            inputs = with_notes(inputs)
            what = samples.over_quota_explained(inputs)
            p = reply(unit, with_notes(inputs))
            scenarios[p.name] = what
            continue
        if kind == "tampered":
            inputs = with_notes(inputs)
            p = reply(unit, inputs)
            data = p.read_bytes()
            ret = read_return(p, data)
            sheet, ref = ret.names["total_score"].split("!")
            ref = ref.replace("$", "")
            data = set_cell_xml(data, sheet, ref, f'<c r="{ref}"{cell_style(data, sheet, ref)}><v>100</v></c>')
            p.write_bytes(data)
            scenarios[p.name] = "篡改：总分公式被改成常数 100（公式被改 + 得分不符）"
            continue
        if kind == "resubmit":
            first = dict(inputs)
            samples.late_funds(first)
            p = reply(unit, first, name=safe_filename(unit).replace(".xlsx", "-第一次.xlsx"))
            earlier = p.stat().st_mtime - 86400
            os.utime(p, (earlier, earlier))  # saved a day before the correction
            scenarios[p.name] = "第一次报送：支付进度扣分且未写原因（后被更正版取代，保留在历史中）"
            p = reply(unit, with_notes(inputs), name=safe_filename(unit).replace(".xlsx", "-更正.xlsx"))
            scenarios[p.name] = "更正后重新报送：成为当前有效报表"
            continue
        if kind == "fair" and "note" not in scenarios.get("_fair", ""):
            p = reply(unit, inputs)  # deductions without reasons: note_missing warnings
            scenarios[p.name] = "有扣分但未写扣分原因（警告未说明）"
            scenarios["_fair"] = "note"
            continue
        p = reply(unit, with_notes(inputs))
        scenarios[p.name] = {"good": "数据完整，接近满分", "fair": "有扣分，已写明扣分原因",
                             "poor": "较多扣分，已写明扣分原因"}[quality]
    scenarios.pop("_fair", None)
    hostile = returns / "200999-某单位（发来的其实是文本文件）.xlsx"
    hostile.write_text("这不是工作簿，而是一封被改了扩展名的邮件正文。", encoding="utf-8")
    scenarios[hostile.name] = "恶意或错误文件：不是 .xlsx，拒收并写明原因"
    step(f"已模拟各单位报回 {sum(1 for _ in returns.iterdir())} 个文件：{returns}")

    # 4. collect
    with Store(db) as store:
        # the first submission of the resubmitting unit arrives before its correction
        ordered = sorted(returns.iterdir(), key=lambda f: ("更正" in f.name, f.name))
        summary = collect(ordered, store, workers=1)
        step(f"已收集到数据库 {db}：新收 {summary.new}，更新 {summary.updated}，重复 {summary.duplicate}，"
             f"拒收 {summary.rejected_count}，有错误 {summary.with_errors}")
        statuses = unit_status(store, YEAR, roster)
        district = out / "3-汇总" / f"{YEAR}年度绩效自评汇总.xlsx"
        district.parent.mkdir(exist_ok=True)
        csv_dir = out / "3-汇总" / "csv"
        tables = consolidate(store, YEAR, district, roster, csv_dir, force=True)
    step(f"已生成全区汇总工作簿：{district}（CSV：{csv_dir}）")

    # 5. 附件3-1: 2–3 projects per unit, registered and signed, filled and collected
    from .demo_projects import collect_projects, run_project_demo
    from .project_district import consolidate_projects

    with Store(db) as store:
        clean = {st.budget_code for st in statuses if not st.errors}  # the cross-form check trusts these only
        with_projects = [code for code, amount in spend.items()
                         if isinstance(amount, (int, float)) and amount > 0 and code in clean]
        over = with_projects[0] if with_projects else None  # its projects exceed its 项目支出
        missing = with_projects[-1] if len(with_projects) > 1 else None  # sends no 附件3-1 at all
        projects = run_project_demo(out, rows, YEAR, rng, store, skip={missing} - {None}, spend=spend, over=over)
        if missing is not None:
            projects.scenarios[f"{missing}（项目表）"] = "有项目支出但没有报回任何附件3-1（跨表核对：缺少项目表）"
        step(f"附件3-1：项目花名册 {projects.roster}（{len(projects.projects)} 个项目），"
             f"已生成并登记项目工作簿 {projects.workbooks}")
        got = collect_projects(store, projects)
        projects.collected = got
        step(f"已收集项目报回 {projects.returns}：新收 {got.new}，拒收 {got.rejected_count}，有错误 {got.with_errors}")
        projects.district = district.parent / f"{YEAR}年度项目支出汇总.xlsx"
        project_tables = consolidate_projects(store, YEAR, projects.district, force=True)  # the demo's own folder
        projects.cross_findings = project_tables.cross_findings
    step(f"已生成项目支出汇总工作簿：{projects.district}（跨表核对 {len(projects.cross_findings)} 条）")
    return DemoResult(out, roster_path, workbooks, returns, db, district, csv_dir, summary, statuses, tables, scenarios,
                      projects)

