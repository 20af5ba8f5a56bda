"""Row forms (附件3-1 and any form with unit-written indicators): load the template into typed objects.

A row form's indicator levels are repeating tables: `rows` blank rows per level, each row's inputs
named `ind_<level>_<n>_<column>` (e.g. `ind_output_3_target`).  Every word, point, share and option
comes from the TOML; nothing about a particular form is written here.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..numbers import to_decimal
from ..rowrules import RowRuleParams
from ..template import TEMPLATES_DIR, TemplateError

ROW_COLUMNS = ("name", "nature", "target", "unit", "actual", "points", "reason")  # what score_row reads
NATURE_KINDS = {"at_least", "at_most", "equal", "qualitative"}


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    optional: bool = False


@dataclass(frozen=True)
class RowLevel:
    id: str
    name: str
    points: Decimal
    rows: int
    groups: tuple[str, ...]

    def row_ids(self) -> list[str]:
        return [f"ind_{self.id}_{n}" for n in range(1, self.rows + 1)]


@dataclass(frozen=True)
class Funds:
    label: str
    total: Field
    rows: tuple[Field, ...]
    columns: tuple[Field, ...]
    budget_column: str
    executed_column: str
    reason_key: str

    def key(self, row: str, column: str) -> str:
        return f"funds_{row}_{column}"

    def input_keys(self) -> list[str]:
        return [self.key(r.key, c.key) for r in self.rows for c in self.columns]


@dataclass(eq=False)
class RowForm:
    id: str
    version: str
    title: str
    form_title: str
    region: str
    identity: tuple[Field, ...]
    header: tuple[Field, ...]
    funds: Funds
    goals: tuple[Field, ...]
    row_columns: tuple[Field, ...]
    levels: tuple[RowLevel, ...]
    texts: tuple[Field, ...]
    grade_bands: tuple[tuple[Decimal, str], ...]
    params: RowRuleParams
    content_hash: str
    formula_revision: int = 1
    path: str = ""
    guide_sheet: str = ""  # sheet titles: [sheets] in the TOML (required)
    audit_sheet: str = ""
    checks: tuple[Any, ...] = ()  # rowchecks.RowCheckSpec, the 审核 rows in order
    guide: tuple[tuple[str, str], ...] = ()  # 填报说明: (heading | text, words)

    @property
    def inputs(self) -> dict[str, Any]:
        """No typed input specs (the renderer asks for date inputs and long texts by this mapping)."""
        return {}

    def row_key(self, row_id: str, column: str) -> str:
        return f"{row_id}_{column}"

    def input_keys(self) -> list[str]:
        """Every input a unit may fill, in form order."""
        keys = [f.key for f in self.header] + self.funds.input_keys() + [self.funds.reason_key]
        keys += [f.key for f in self.goals]
        keys += [self.row_key(rid, c.key) for lv in self.levels for rid in lv.row_ids() for c in self.row_columns]
        return keys + [f.key for f in self.texts]

    def label(self, key: str) -> str:
        for f in (*self.identity, *self.header, *self.goals, *self.texts):
            if f.key == key:
                return f.label
        return key

    def grade_for(self, total: Decimal) -> str:
        for minimum, grade in self.grade_bands:
            if total >= minimum:
                return grade
        return self.grade_bands[-1][1]


def _fields(pairs: Any, where: str, problems: list[str]) -> tuple[Field, ...]:
    out = []
    for i, p in enumerate(pairs or []):
        if isinstance(p, dict) and isinstance(p.get("key"), str) and isinstance(p.get("label"), str):
            out.append(Field(p["key"], p["label"], bool(p.get("optional", False))))
        elif isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p):
            out.append(Field(p[0], p[1]))
        else:
            problems.append(f"{where} 第{i + 1}项：应为 [代码, 标签]")
    return tuple(out)


def _dec(value: Any, where: str, problems: list[str]) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}：应为数字")
        return Decimal(0)
    return to_decimal(value)


def parse_row_form(text: str, path: str = "<template>") -> RowForm:
    """Parse and check a row-form template; every problem found is listed in the TemplateError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(path, [f"TOML 语法错误：{exc}"]) from exc
    problems: list[str] = []
    if data.get("kind") != "rows":
        problems.append("不是行式模板（缺少 kind = \"rows\"）")
    for k in ("id", "version", "title"):
        if not isinstance(data.get(k), str) or not data.get(k):
            problems.append(f"缺少 {k}")
    fd = data.get("funds") or {}
    funds = Funds(
        label=str(fd.get("label", "")),
        total=(_fields([fd.get("total")], "funds.total", problems) or (Field("total", ""),))[0],
        rows=_fields(fd.get("rows"), "funds.rows", problems),
        columns=_fields(fd.get("columns"), "funds.columns", problems),
        budget_column=str(fd.get("budget_column", "")), executed_column=str(fd.get("executed_column", "")),
        reason_key=str(fd.get("reason_key", "")))
    if not funds.reason_key:
        problems.append("funds：缺少 reason_key（执行率偏低时说明原因的填报项）")
    col_keys = {c.key for c in funds.columns}
    for need in (funds.budget_column, funds.executed_column):
        if need not in col_keys:
            problems.append(f"funds：列“{need}”不在 columns 中")
    rd = data.get("rows") or {}
    row_columns = _fields(rd.get("columns"), "rows.columns", problems)
    missing = [c for c in ROW_COLUMNS if c not in {f.key for f in row_columns}]
    if missing:
        problems.append("rows.columns 缺少 " + "、".join(missing))
    natures = {}
    for i, pair in enumerate(rd.get("natures") or []):
        if not (isinstance(pair, list) and len(pair) == 2 and pair[1] in NATURE_KINDS):
            problems.append(f"rows.natures 第{i + 1}项：应为 [文字, {'|'.join(sorted(NATURE_KINDS))}]")
            continue
        natures[str(pair[0])] = pair[1]
    if set(natures.values()) != NATURE_KINDS:
        problems.append("rows.natures 应包含四种指标性质各一")
    shares = {str(p[0]): _dec(p[1], f"rows.qualitative {p[0]}", problems)
              for p in rd.get("qualitative") or [] if isinstance(p, list) and len(p) == 2}
    levels = []
    for i, lv in enumerate(data.get("levels") or []):
        where = f"levels 第{i + 1}项"
        n = lv.get("rows")
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 200:
            problems.append(f"{where}：rows 应为 1～200 的整数")
            n = 1
        levels.append(RowLevel(str(lv.get("id", "")), str(lv.get("name", "")),
                               _dec(lv.get("points"), f"{where} points", problems), n,
                               tuple(str(g) for g in lv.get("groups") or [])))
    if len({lv.id for lv in levels}) != len(levels) or not levels:
        problems.append("levels：层级 id 为空或重复")
    funds_points = _dec(fd.get("points", 10), "funds.points", problems)
    if funds_points + sum((lv.points for lv in levels), Decimal(0)) != 100:
        problems.append("资金分值与各层级分值合计应为 100")
    caps = []
    for c in data.get("caps") or []:
        caps.append((_dec(c[0], "caps", problems), None if c[1] == "none" else _dec(c[1], "caps", problems)))
    deduction = rd.get("deviation_deduction")
    params = RowRuleParams(
        natures=natures, qualitative_shares=shares, deviation_pct=_dec(rd.get("deviation_pct", 30), "deviation_pct",
                                                                        problems),
        deviation_deduction=None if deduction is None else _dec(deduction, "deviation_deduction", problems),
        funds_points=funds_points, reason_below_pct=_dec(fd.get("reason_below_pct", 90), "reason_below_pct", problems),
        cap_bands=tuple(caps), text_limit=int((data.get("texts") or {}).get("limit", 200)))
    bands = tuple((_dec(b.get("min"), "grades", problems), str(b.get("grade")))
                  for b in (data.get("grades") or {}).get("bands", []))
    if not bands:
        problems.append("缺少 grades.bands")
    form = RowForm(
        id=str(data.get("id", "")), version=str(data.get("version", "")), title=str(data.get("title", "")),
        form_title=str(data.get("form_title", "")), region=str(data.get("region", "")),
        identity=_fields(data.get("identity"), "identity", problems),
        header=_fields((data.get("header") or {}).get("inputs"), "header", problems), funds=funds,
        goals=_fields((data.get("goals") or {}).get("inputs"), "goals", problems), row_columns=row_columns,
        levels=tuple(levels), texts=_fields((data.get("texts") or {}).get("inputs"), "texts", problems),
        grade_bands=bands, params=params, content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        formula_revision=int(data.get("formula_revision", 1)), path=path)
    sheets = data.get("sheets") or {}
    for role in ("guide", "audit"):
        title = sheets.get(role)
        if not isinstance(title, str) or not title.strip():
            problems.append(f"sheets：缺少 {role}（工作表名称）")
        else:
            setattr(form, f"{role}_sheet", title.strip())
    form.checks = _checks(data.get("checks"), problems)
    form.guide = _guide(data.get("guide"), problems)
    keys = form.input_keys() + [f.key for f in form.identity]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        problems.append("输入项代码重复：" + "、".join(dup))
    if problems:
        raise TemplateError(path, problems)
    return form


def _checks(items: Any, problems: list[str]) -> tuple[Any, ...]:
    """The [[checks]] table: one 审核 row each, of a kind workbook.rowchecks knows."""
    from ..rowchecks import KINDS, RowCheckSpec
    from ..template import FINDING_CODES

    out = []
    for i, c in enumerate(items or []):
        where = f"checks 第{i + 1}项"
        if not isinstance(c, dict):
            problems.append(f"{where}：应为表")
            continue
        spec = RowCheckSpec(str(c.get("id", "")), str(c.get("kind", "")), str(c.get("label", "")),
                            str(c.get("severity", "")), str(c.get("code", "")))
        if not spec.id or not spec.label:
            problems.append(f"{where}：缺少 id 或 label")
        if spec.kind not in KINDS:
            problems.append(f"{where}（{spec.id}）：未知审核类型 {spec.kind!r}，应为 {'、'.join(KINDS)} 之一")
        if spec.severity not in ("error", "warning", "info"):
            problems.append(f"{where}（{spec.id}）：severity 应为 error、warning 或 info")
        if spec.code not in FINDING_CODES:
            problems.append(f"{where}（{spec.id}）：未知问题代码 {spec.code!r}")
        out.append(spec)
    if len({c.id for c in out}) != len(out):
        problems.append("checks：审核 id 重复")
    return tuple(out)


def _guide(data: Any, problems: list[str]) -> tuple[tuple[str, str], ...]:
    """[guide] lines = [[heading|text, 文字], ...]: the 填报说明 sheet."""
    out = []
    for i, line in enumerate((data or {}).get("lines") or []):
        if not (isinstance(line, list) and len(line) == 2 and line[0] in ("heading", "text")
                and isinstance(line[1], str)):
            problems.append(f"guide.lines 第{i + 1}项：应为 [\"heading\" 或 \"text\", 文字]")
            continue
        out.append((line[0], line[1]))
    return tuple(out)


def load_row_form(path: str | Path) -> RowForm:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(str(p), [f"无法读取模板文件：{exc}"]) from exc
    return parse_row_form(text, str(p))


@lru_cache(maxsize=1)
def xiangmu_template() -> RowForm:
    """The built-in 附件3-1 template."""
    return load_row_form(TEMPLATES_DIR / "xiangmu.toml")


@lru_cache(maxsize=1)
def row_forms() -> dict[tuple[str, str], RowForm]:
    """The row forms this installation knows, by (id, version) (templates/*.toml of kind "rows")."""
    out = {}
    for p in sorted(TEMPLATES_DIR.glob("*.toml")):
        try:
            if tomllib.loads(p.read_text(encoding="utf-8")).get("kind") != "rows":
                continue
            form = load_row_form(p)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, TemplateError):
            continue
        out[(form.id, form.version)] = form
    return out
