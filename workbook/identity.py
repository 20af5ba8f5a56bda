"""A return's identity bound to its issuance: the MAC, and the identity checks verify and collect run.

The bureau key (32 random bytes, hex) is created with the store and lives only there.  At generation
the MAC over (return_id, 预算编码, year, template id, template version; and for a per-project form such
as 附件3-1 the project key: 项目编码, else 项目名称) is written into the workbook
(custom property `jixiao_mac` and the hidden metadata sheet); the register of issued return_ids is
kept in the store.  `mac()` is the one function that computes it, for writing and for checking.

Checks without the key (always run by verify): identity properties present, and the metadata
sheet's copy equal to the document properties.  Checks with the key and/or register (verify --db or
--key, and always collect): MAC present and right, return_id issued to this unit, year and template,
and not already another unit's current return.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .read import Return
from .report import Finding

MAC_FIELDS = ("return_id", "budget_code", "year", "template_id", "template_version")
REQUIRED = {"return_id": "报表编号", "budget_code": "预算编码", "year": "评价年度", "template_id": "模板标识",
            "template_version": "模板版本"}
# Identity keys compared between the document properties and the metadata sheet.
COMPARED = ("template_id", "template_version", "template_hash", "return_id", "unit_name", "budget_code",
            "parent_dept", "year", "mac", "project_name", "project_code")
IDENTITY_CELLS = {"unit_name", "budget_code", "parent_dept", "year", "project_name", "project_code"}

IDENTITY_CODES = {"mac_missing", "mac_invalid", "return_id_unknown", "return_id_mismatch", "return_id_reused",
                  "identity_missing", "identity_inconsistent"}


def project_key(code: Any, name: Any) -> str:
    """A project's key within its unit: the 项目编码 when there is one, else the 项目名称 (whitespace-normalised)."""
    code_text = "" if _blank(code) else " ".join(str(code).split())
    return code_text or ("" if _blank(name) else " ".join(str(name).split()))


def project_identity(code: Any, name: Any) -> str:
    """What the MAC of a per-project return covers: its 项目编码 and 项目名称 (whitespace-normalised)."""
    parts = ["" if _blank(v) else " ".join(str(v).split()) for v in (code, name)]
    return "\x1f".join(parts) if any(parts) else ""


def mac(key: str, return_id: str, budget_code: str, year: Any, template_id: str, template_version: str,
        project: str = "") -> str:
    """HMAC-SHA256 (hex) under the bureau key over the identity fields, unit-separator joined.

    `project`: project_identity() of a per-project form (附件3-1); "" for the unit form, whose MAC is unchanged.
    """
    fields = ["jixiao-identity-1", str(return_id), str(budget_code), _year(year), str(template_id),
              str(template_version)]
    if project:
        fields = ["jixiao-identity-2", *fields[1:], str(project)]
    message = "\x1f".join(fields)
    return hmac.new(bytes.fromhex(key), message.encode("utf-8"), hashlib.sha256).hexdigest()


def _year(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return "" if v is None else str(v).strip()


def _blank(v: Any) -> bool:
    return v is None or str(v).strip() in ("", "-")


def is_identity_error(f: Finding) -> bool:
    """An error that puts in doubt whose return this is (such a return never becomes current)."""
    if f.severity != "error":
        return False
    return f.code in IDENTITY_CODES or (f.code == "template_modified" and f.where in IDENTITY_CELLS)


# -- without the key: properties present and consistent ---------------------------------------------
def meta_findings(ret: Return) -> list[Finding]:
    """Identity properties missing, or the metadata sheet disagreeing with the document properties."""
    out: list[Finding] = []
    props, sheet = ret.meta, ret.meta_sheet
    missing = [label for key, label in REQUIRED.items() if _blank(props.get(key))]
    if missing:
        out.append(Finding("error", "identity_missing", "docProps/custom.xml",
                           f"文件的身份属性缺失或被清空：{'、'.join(missing)}（下发时写入的自定义文档属性被删除或改成了“-”），"
                           "无法确认这是哪个单位哪一年度的报表"))
    for key in COMPARED:
        a, b = props.get(key), sheet.get(key)
        if (_blank(a) and _blank(b)) or (_blank(a) and key in REQUIRED):  # a missing property is reported above
            continue
        if _norm(a) != _norm(b):
            out.append(Finding("error", "identity_inconsistent", f"_jixiao!jx_{key}",
                               f"隐藏元数据表中的 {key} 为“{_show(b)}”，文档属性中为“{_show(a)}”：两处身份信息不一致，"
                               "文件的身份信息被改动过"))
    return out


def _norm(v: Any) -> str:
    return "" if _blank(v) else _year(v)


def _show(v: Any) -> str:
    return "（空）" if _blank(v) else str(v)


def legacy_filter(findings: list[Finding], ret: Return) -> list[Finding]:
    """A workbook issued before identity MACs has no `jx_mac` name: that is not template tampering."""
    if not _blank(ret.meta.get("mac")) or not _blank(ret.meta_sheet.get("mac")):
        return findings
    return [f for f in findings if not (f.code == "template_modified" and f.where == "jx_mac"
                                         and f.message.startswith("缺少名称"))]


# -- with the key and the register --------------------------------------------------------------------
@dataclass
class Issuance:
    """What the context knows: the key, the register and the store's current returns."""

    key: str | None = None
    issued: Callable[[str], dict[str, Any] | None] | None = None  # return_id -> register row
    # (budget_code, year, per-project template id or None): was this unit issued a signed workbook of that form?
    signed_issue: Callable[..., bool] | None = None
    # (return_id, budget_code, project_key) -> the other unit (and project) whose current return it already is
    current_owner: Callable[..., str | None] | None = None

    @property
    def active(self) -> bool:
        return self.key is not None or self.issued is not None


def issuance_findings(ret: Return, ctx: Issuance) -> list[Finding]:
    """MAC and register checks of one readable return (nothing when the context has neither)."""
    if not ctx.active or ret.rejected is not None or (ret.template is None and ret.row_form is None):
        return []
    props = ret.meta
    rid, code, year = props.get("return_id") or "", props.get("budget_code") or "", props.get("year")
    rows = ret.row_form is not None
    project = project_key(props.get("project_code"), props.get("project_name")) if rows else ""
    signed_project = project_identity(props.get("project_code"), props.get("project_name")) if rows else ""
    tid = props.get("template_id") or ""
    out: list[Finding] = []
    given = props.get("mac")
    valid = False
    year_int = _int(year)
    in_use = bool(ctx.signed_issue and ctx.signed_issue(str(code), year_int, tid if rows else None))
    record = ctx.issued(rid) if ctx.issued and not _blank(rid) else None
    if ctx.key is not None:
        if _blank(given):
            if in_use or record is not None:
                out.append(Finding("error", "mac_missing", "docProps/custom.xml",
                                   f"文件没有身份签名（jixiao_mac）：财政局给该单位下发的 {_year(year)} 年度工作簿是登记并签名的，"
                                   "此文件的签名被删除，或不是财政局下发的文件"))
            else:
                out.append(Finding("warning", "unsigned_return", "docProps/custom.xml",
                                   "文件没有身份签名：它是在启用签名之前下发的工作簿（该单位该年度没有登记下发的记录），"
                                   "单位、年度和模板无法用签名证明，请与下发名单核对单位名称和预算编码"))
        else:
            want = mac(ctx.key, rid, code, year, tid, props.get("template_version") or "", signed_project)
            valid = hmac.compare_digest(want, str(given).strip().lower())
            if not valid:
                what = "报表编号、预算编码、项目、年度或模板版本" if ret.row_form is not None else "报表编号、预算编码、年度或模板版本"
                out.append(Finding("error", "mac_invalid", "docProps/custom.xml",
                                   f"身份签名不符：{what}在下发后被改动过"
                                   "（或不是用这个数据库的密钥下发的：请确认 --db 是下发时用的数据库）"))
    if ctx.issued is not None and not _blank(rid):
        if record is None and not valid and (in_use or not _blank(given)):
            out.append(Finding("error", "return_id_unknown", "return_id",
                               f"报表编号 {rid} 不在下发登记簿中：财政局没有下发过这份工作簿"))
        elif record is not None:
            wrong = [f"{label}应为“{want}”，文件中为“{_show(got)}”" for label, want, got in (
                ("预算编码", record["budget_code"], code), ("年度", _year(record["year"]), _year(year)),
                ("模板", record["template_id"], props.get("template_id")),
                ("模板版本", record["template_version"], props.get("template_version")),
                ("项目", record.get("project_key") or "", project))
                if _norm(want) != _norm(got)]
            if wrong:
                out.append(Finding("error", "return_id_mismatch", "return_id",
                                   f"报表编号 {rid} 是下发给“{record.get('unit_name') or ''}”（预算编码 {record['budget_code']}）"
                                   f"{record['year']} 年度的：" + "；".join(wrong)))
    if ctx.current_owner is not None and not _blank(rid):
        other = ctx.current_owner(rid, str(code), project)
        if other:
            whose = f"另一单位（预算编码 {other}）" if not project else f"另一单位或项目（{other}）"
            out.append(Finding("error", "return_id_reused", "return_id",
                               f"报表编号 {rid} 已是{whose}的当前报表：同一份下发工作簿不能代表两个单位或项目"))
    return out


def _int(v: Any) -> int | None:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None
