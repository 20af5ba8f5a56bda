"""Load a declarative form template (TOML) into typed objects, and lint it.

The template is the single source of truth: the generator renders its rules as
Excel formulas, the engine scores the same rules in Python.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from .formfacts import FormFacts, lint_facts, parse_facts, with_facts
from .numbers import to_decimal

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_TEMPLATE = TEMPLATES_DIR / "zhengti.toml"

INPUT_TYPES = {"text", "int", "money", "rate", "yesno", "score", "date"}
NUMERIC_TYPES = {"int", "money", "rate", "score"}
SEVERITIES = {"error", "warning", "info"}
FINDING_CODES = {
    "file_rejected": "error",
    "template_unknown": "error",
    "template_modified": "error",
    "formula_tampered": "error",
    "missing_input": "error",
    "invalid_input": "error",
    "score_mismatch": "error",
    "mac_missing": "error",
    "mac_invalid": "error",
    "return_id_unknown": "error",
    "return_id_mismatch": "error",
    "return_id_reused": "error",
    "identity_missing": "error",
    "identity_inconsistent": "error",
    "unsigned_return": "warning",
    "protection_removed": "warning",
    "metadata_unhidden": "warning",
    "not_recalculated": "warning",
    "balance_mismatch": "warning",
    "exceeds_base": "warning",
    "zero_base": "warning",
    "note_missing": "warning",
    "text_mismatch": "warning",
    "target_deviation": "warning",
    "text_too_long": "warning",
    "projects_exceed_unit": "warning",
    "projects_missing": "warning",
    "not_applicable": "info",
    "leased_assets": "info",
    "cross_check_skipped": "info",
}


class TemplateError(Exception):
    """A template that cannot be used; `problems` lists every error found."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "；".join(problems))


@dataclass(frozen=True)
class Input:
    key: str
    label: str
    unit: str
    type: str
    section: str
    required: bool = False
    blank_zero: bool = False
    identity: bool = False
    long: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    default: str | None = None
    help: str = ""
    indicator: str | None = None

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class Computed:
    key: str
    label: str
    section: str
    plus: tuple[str, ...]
    minus: tuple[str, ...] = ()
    floor_zero: bool = False


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    points: Decimal
    level: str


@dataclass(frozen=True)
class Level:
    id: str
    name: str
    points: Decimal
    groups: tuple[Group, ...]


@dataclass
class Indicator:
    id: str
    name: str
    level: str
    group: str
    max: Decimal
    criteria: str
    rule_kind: str
    params: dict[str, Any]
    rows: tuple[str, ...] = ()
    criteria_group: str | None = None
    rule: Any = None  # set by load_template: a workbook.rules.Rule


@dataclass(frozen=True)
class CheckSpec:
    id: str
    kind: str
    severity: str
    code: str
    label: str
    params: dict[str, Any]


@dataclass(frozen=True)
class TextCheck:
    id: str
    key: str
    pattern: str
    fields: tuple[str, ...]
    label: str


# The newest formula revision this code renders (see Template.formula_revision).
FORMULA_REVISION = 3


@dataclass(eq=False)  # hashable by identity: plans and expectations are cached per template object
class Template:
    id: str
    version: str
    title: str
    form_title: str
    region: str
    grade_bands: tuple[tuple[Decimal, str], ...]
    levels: tuple[Level, ...]
    inputs: dict[str, Input]
    computed: dict[str, Computed]
    indicators: list[Indicator]
    checks: list[CheckSpec]
    text_checks: list[TextCheck]
    source: str
    content_hash: str
    path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Which generation of formula text the template's workbooks carry.  A return is verified
    # against the formulas of its own revision, so returns issued before a formula change still
    # verify (the older template file stays in templates/ with its older revision).
    formula_revision: int = 1
    form: FormFacts | None = None  # the workbook facts ([form] tables; a companion file's for old versions)

    # -- lookups ---------------------------------------------------------
    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def level(self, level_id: str) -> Level:
        return next(lv for lv in self.levels if lv.id == level_id)

    def group(self, group_id: str) -> Group:
        return next(g for lv in self.levels for g in lv.groups if g.id == group_id)

    def label(self, key: str) -> str:
        if key in self.inputs:
            return self.inputs[key].label
        if key in self.computed:
            return self.computed[key].label
        return key

    def expand(self, key: str) -> list[str]:
        """The input keys a key depends on (a computed value expands to its parts)."""
        if key in self.computed:
            c = self.computed[key]
            return [k for part in (*c.plus, *c.minus) for k in self.expand(part)]
        return [key]

    def required_inputs(self) -> list[str]:
        """Inputs whose blank is an error: declared required, or read by a rule and not blank_zero."""
        cached = self.extra.get("required_inputs")
        if cached is not None:
            return cached
        keys = [k for k, i in self.inputs.items() if i.required]
        for ind in self.indicators:
            for key in ind.rule.required_inputs(self):
                if key not in keys:
                    keys.append(key)
        self.extra["required_inputs"] = keys
        return keys

    def grade_for(self, total: Decimal) -> str:
        for minimum, grade in self.grade_bands:
            if total >= minimum:
                return grade
        return self.grade_bands[-1][1]


# ---------------------------------------------------------------------------
# Loading and lint
# ---------------------------------------------------------------------------

def _dec(value: Any) -> Decimal | None:
    return None if value is None else to_decimal(value)


def _entries(items: list[dict[str, Any]], field: str, section: str, what: str, problems: list[str],
             seen: set[str]):
    """Walk a list of template items: report a missing or duplicate `field`, yield (where, key, item)."""
    for n, item in enumerate(items, 1):
        key = item.get(field)
        where = f"{section} 第{n}项（{key or '无 ' + field}）"
        if not key:
            problems.append(f"{where}：缺少 {field}")
            continue
        if key in seen:
            problems.append(f"{where}：{what}重复")
        seen.add(key)
        yield where, key, item


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _points(value: Any, where: str, problems: list[str], field: str = "points") -> Decimal:
    """A numeric field of the template; a non-number is reported (naming the item) and counts as 0."""
    if not _is_number(value):
        problems.append(f"{where}：{field} 应为数字，实际为 {value!r}")
        return Decimal(0)
    return to_decimal(value)


def lint_template_data(data: dict[str, Any]) -> list[str]:
    """Every problem of a parsed template, each naming the item (pyxform-style)."""
    from .rules import RULE_KINDS

    if data.get("kind") == "facts":
        return [f"这是 {data.get('template', '')} 旧版本（{'、'.join(map(str, data.get('versions', [])))}）的工作簿描述补充文件"
                "（kind = \"facts\"），不是模板"]
    problems: list[str] = []
    for top in ("id", "version", "title"):
        if not data.get(top):
            problems.append(f"缺少顶层字段 {top}")
    revision = data.get("formula_revision", 1)
    if not isinstance(revision, int) or isinstance(revision, bool) or not 1 <= revision <= FORMULA_REVISION:
        problems.append(f"formula_revision 应为 1～{FORMULA_REVISION} 的整数，实为 {revision!r}")

    inputs = data.get("inputs", [])
    computed = data.get("computed", [])
    sections = (data.get("form") or {}).get("sections", {})
    known: set[str] = set()
    for where, _key, item in _entries(inputs, "key", "inputs", "输入项 key ", problems, known):
        if not item.get("label"):
            problems.append(f"{where}：缺少中文标签 label")
        if item.get("type") not in INPUT_TYPES:
            problems.append(f"{where}：未知类型 {item.get('type')!r}，应为 {sorted(INPUT_TYPES)}")
        if item.get("section") not in sections:
            problems.append(f"{where}：未知 section {item.get('section')!r}")
        if item.get("type") == "score" and item.get("max") is None:
            problems.append(f"{where}：自评分类型必须给出 max")
        lo, hi = item.get("min"), item.get("max")
        if lo is not None:
            _points(lo, where, problems, "min")
        if hi is not None:
            _points(hi, where, problems, "max")
        if _is_number(lo) and _is_number(hi) and lo > hi:
            problems.append(f"{where}：min 大于 max")
    inputs_known = set(known)
    for where, _key, item in _entries(computed, "key", "computed", "key 与已有项", problems, known):
        if not item.get("label"):
            problems.append(f"{where}：缺少中文标签 label")
        for part in [*item.get("plus", []), *item.get("minus", [])]:
            if part not in inputs_known:
                problems.append(f"{where}：引用了未知输入项 {part!r}")

    levels = data.get("levels", [])
    level_ids: dict[str, Decimal] = {}
    group_ids: dict[str, tuple[str, Decimal]] = {}
    for n, lv in enumerate(levels, 1):
        lid = lv.get("id")
        where = f"一级指标第{n}项（{lv.get('name') or lid or '无 id'}）"
        if not lid:
            problems.append(f"{where}：缺少 id")
            continue
        if lid in level_ids or lid in group_ids:
            problems.append(f"一级指标 {lid}：id 重复")
        points = _points(lv.get("points", 0), where, problems)
        level_ids[lid] = points
        gsum = Decimal(0)
        for m, g in enumerate(lv.get("groups", []), 1):
            gid = g.get("id")
            gwhere = f"{where} 的二级指标第{m}项（{g.get('name') or gid or '无 id'}）"
            if not gid:
                problems.append(f"{gwhere}：缺少 id")
                continue
            if gid in group_ids or gid in level_ids:
                problems.append(f"二级指标 {gid}：id 重复")
            gpoints = _points(g.get("points", 0), gwhere, problems)
            group_ids[gid] = (lid, gpoints)
            gsum += gpoints
            if not g.get("name"):
                problems.append(f"二级指标 {gid}：缺少名称")
        if gsum != level_ids[lid]:
            problems.append(f"一级指标 {lv.get('name', lid)}：分值 {level_ids[lid]} 与其二级指标之和 {gsum} 不等")
    if levels and sum(level_ids.values()) != 100:
        problems.append(f"一级指标分值合计 {sum(level_ids.values())}，应为 100")

    group_sums: dict[str, Decimal] = {g: Decimal(0) for g in group_ids}
    for where, _iid, ind in _entries(data.get("indicators", []), "id", "indicators", "指标 id ", problems, set()):
        if not ind.get("name"):
            problems.append(f"{where}：缺少名称 name")
        if ind.get("max") is None or _points(ind["max"], where, problems, "max") <= 0:
            problems.append(f"{where}：缺少或非法的分值 max")
            continue
        gid = ind.get("group")
        if gid not in group_ids:
            problems.append(f"{where}：未知二级指标 {gid!r}")
        else:
            if group_ids[gid][0] != ind.get("level"):
                problems.append(f"{where}：二级指标 {gid} 不属于一级指标 {ind.get('level')}")
            group_sums[gid] += to_decimal(ind["max"])
        kind = ind.get("rule")
        if kind not in RULE_KINDS:
            problems.append(f"{where}：未知评分规则 {kind!r}，应为 {sorted(RULE_KINDS)}")
            continue
        problems.extend(f"{where}：{p}" for p in RULE_KINDS[kind].lint(ind, known))
    for gid, total in group_sums.items():
        if total != group_ids[gid][1]:
            problems.append(f"二级指标 {gid}：分值 {group_ids[gid][1]} 与其三级指标之和 {total} 不等")
    if not data.get("indicators"):
        problems.append("没有任何指标 indicators")

    for where, _cid, chk in _entries(data.get("checks", []), "id", "checks", "审核规则 id ", problems, set()):
        if chk.get("severity") not in SEVERITIES:
            problems.append(f"{where}：未知严重程度 {chk.get('severity')!r}")
        if chk.get("code") not in FINDING_CODES:
            problems.append(f"{where}：未知问题代码 {chk.get('code')!r}")
        if not chk.get("label"):
            problems.append(f"{where}：缺少中文说明 label")
        refs: list[str] = []
        for side in ("left", "right", "value"):
            v = chk.get(side)
            if isinstance(v, list):
                refs.extend(t.lstrip("-") for t in v)
            elif isinstance(v, str):
                refs.append(v)
        for r in refs:
            if r not in known:
                problems.append(f"{where}：引用了未知输入项 {r!r}")
        if chk.get("kind") not in {"approx_equal", "not_greater", "positive"}:
            problems.append(f"{where}：未知审核类型 {chk.get('kind')!r}")
    for n, tc in enumerate(data.get("text_checks", []), 1):
        where = f"text_checks 第{n}项（{tc.get('id')}）"
        if tc.get("key") not in known:
            problems.append(f"{where}：引用了未知输入项 {tc.get('key')!r}")
        for f in tc.get("fields", []):
            if f not in known:
                problems.append(f"{where}：引用了未知文字项 {f!r}")
        try:
            import re

            if re.compile(tc.get("pattern", "")).groups < 1:
                problems.append(f"{where}：正则表达式需要一个捕获组")
        except re.error as exc:
            problems.append(f"{where}：正则表达式有误：{exc}")
    grades = data.get("grades", {}).get("bands", [])
    if not grades:
        problems.append("缺少评价等次 grades.bands")
    problems.extend(lint_facts(data, known))
    return problems


def parse_template(text: str, path: str = "<template>") -> Template:
    """Parse and lint template text; raise TemplateError listing every problem."""
    from .rules import RULE_KINDS

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(path, [f"TOML 语法错误：{exc}"]) from exc
    data = with_facts(data, TEMPLATES_DIR)
    problems = lint_template_data(data)
    if problems:
        raise TemplateError(path, problems)

    inputs = {}
    for item in data["inputs"]:
        inputs[item["key"]] = Input(
            key=item["key"], label=item["label"], unit=item.get("unit", ""), type=item["type"],
            section=item["section"], required=bool(item.get("required", False)),
            blank_zero=bool(item.get("blank_zero", False)), identity=bool(item.get("identity", False)),
            long=bool(item.get("long", False)), min=_dec(item.get("min")), max=_dec(item.get("max")),
            default=item.get("default"), help=item.get("help", ""), indicator=item.get("indicator"),
        )
    computed = {
        c["key"]: Computed(key=c["key"], label=c["label"], section=c["section"], plus=tuple(c.get("plus", [])),
                           minus=tuple(c.get("minus", [])), floor_zero=bool(c.get("floor_zero", False)))
        for c in data.get("computed", [])
    }
    levels = tuple(
        Level(id=lv["id"], name=lv["name"], points=to_decimal(lv["points"]),
              groups=tuple(Group(id=g["id"], name=g["name"], points=to_decimal(g["points"]), level=lv["id"])
                           for g in lv["groups"]))
        for lv in data["levels"]
    )
    reserved = {"id", "name", "level", "group", "max", "criteria", "rule", "rows", "criteria_group"}
    indicators = []
    last_criteria: dict[str, str] = {}
    for ind in data["indicators"]:
        cg = ind.get("criteria_group")
        criteria = ind.get("criteria", "")
        if cg and criteria:
            last_criteria[cg] = criteria
        obj = Indicator(
            id=ind["id"], name=ind["name"], level=ind["level"], group=ind["group"], max=to_decimal(ind["max"]),
            criteria=criteria, rule_kind=ind["rule"], params={k: v for k, v in ind.items() if k not in reserved},
            rows=tuple(ind.get("rows", ())), criteria_group=cg,
        )
        obj.rule = RULE_KINDS[ind["rule"]](obj)
        indicators.append(obj)
    checks = [CheckSpec(id=c["id"], kind=c["kind"], severity=c["severity"], code=c["code"], label=c["label"],
                        params={k: v for k, v in c.items() if k not in {"id", "kind", "severity", "code", "label"}})
              for c in data.get("checks", [])]
    text_checks = [TextCheck(id=t["id"], key=t["key"], pattern=t["pattern"], fields=tuple(t["fields"]),
                             label=t["label"]) for t in data.get("text_checks", [])]
    grade_bands = tuple((to_decimal(b["min"]), b["grade"]) for b in data["grades"]["bands"])
    return Template(
        id=data["id"], version=str(data["version"]), title=data["title"], form_title=data.get("form_title", ""),
        region=data.get("region", ""), grade_bands=grade_bands, levels=levels, inputs=inputs, computed=computed,
        indicators=indicators, checks=checks, text_checks=text_checks, source=text,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(), path=path,
        formula_revision=int(data.get("formula_revision", 1)), form=parse_facts(data["form"]),
    )


def _os_error(exc: OSError) -> str:
    from .outputs import os_error_zh

    return os_error_zh(exc)


def load_template(path: str | Path | None = None) -> Template:
    """Load (and lint) a template file; the built-in 附件3-2 template by default."""
    p = Path(path) if path else DEFAULT_TEMPLATE
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = "文件编码不是 UTF-8" if isinstance(exc, UnicodeDecodeError) else _os_error(exc)
        raise TemplateError(str(p), [f"无法读取模板文件：{why}"]) from exc
    return parse_template(text, str(p))


@lru_cache(maxsize=8)
def default_template() -> Template:
    """The built-in template, loaded once per process."""
    return load_template(DEFAULT_TEMPLATE)


def is_row_form(path: Path) -> bool:
    """A template of the row kind (kind = "rows"), read by workbook.form.rowform."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get("kind") == "rows"
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


@lru_cache(maxsize=1)
def known_templates() -> dict[tuple[str, str], Template]:
    """Templates this installation knows, by (id, version); loaded once per process."""
    out = {}
    for p in sorted(TEMPLATES_DIR.glob("*.toml")):
        if is_row_form(p) or p.stem.endswith("-facts"):
            continue  # row forms (附件3-1) have their own loader (workbook.form.rowform); facts are no template
        try:
            t = load_template(p) if p != DEFAULT_TEMPLATE else default_template()
        except TemplateError:
            continue
        out[(t.id, t.version)] = t
    return out
