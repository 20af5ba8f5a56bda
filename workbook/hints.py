"""复核提示 (returns worth a second look) and the comparison of two submissions, from stored rows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .store import Store
from .template import Template, default_template

MIN_PROSE = 30  # characters; shorter texts are too generic to count as copied


@dataclass
class Hint:
    title: str
    detail: str


def _norm(text: Any) -> str:
    return re.sub(r"\s+", "", str(text or ""))


def hints(store: Store, row: dict[str, Any], template: Template | None = None) -> list[Hint]:
    """Why a current submission (a decoded Store row) deserves a second look; empty when nothing stands out."""
    t = template or default_template()
    rep, ret = row.get("report") or {}, row.get("return") or {}
    out: list[Hint] = []
    claimed, total = row.get("cached_total"), row.get("total")
    lost = [i for i in rep.get("indicators") or [] if isinstance(i.get("score"), (int, float))
            and isinstance(i.get("max"), (int, float)) and i["score"] < i["max"]]
    if isinstance(claimed, (int, float)) and claimed >= 90 and isinstance(total, (int, float)) and total < claimed:
        out.append(Hint("自报高分但复算扣分",
                        f"自报总分 {claimed:g}，按报表自身数据复算为 {total:g}（{len(lost)} 项指标扣分）"))
    inds = rep.get("indicators") or []
    if inds and not lost and all(i.get("status") == "ok" for i in inds):
        out.append(Hint("全部指标满分", f"{len(inds)} 项三级指标均为满分，请核对佐证材料"))
    mismatches = [f for f in rep.get("findings") or [] if f.get("code") == "text_mismatch"]
    if mismatches:
        out.append(Hint("报告文字与表格矛盾", "；".join(f["message"] for f in mismatches[:3])))
    inputs = ret.get("inputs") or {}
    for key in [k for k, spec in t.inputs.items() if spec.long]:  # the report's prose
        text = _norm(inputs.get(key))
        if len(text) < MIN_PROSE:
            continue
        others = [r for r in store.db.execute(
            "SELECT budget_code, unit_name, json_extract(return_json, '$.inputs." + key + "') AS t FROM submissions "
            "WHERE status = 'accepted' AND is_current = 1 AND year = ? AND budget_code IS NOT ? AND project_key = ''",
            (row.get("year"), row.get("budget_code"))) if _norm(r["t"]) == text]
        if others:
            names = "、".join(f"{r['unit_name']}（{r['budget_code']}）" for r in others[:3])
            out.append(Hint("与其他单位文字雷同", f"“{t.label(key)}”与 {names} 的内容完全相同"))
    return out


@dataclass
class Change:
    what: str
    before: Any
    after: Any


def compare(a: dict[str, Any], b: dict[str, Any], template: Template | None = None) -> dict[str, list[Change]]:
    """Inputs and scores that differ between two stored submissions (a = earlier, b = later)."""
    t = template or default_template()
    ia, ib = (a.get("return") or {}).get("inputs") or {}, (b.get("return") or {}).get("inputs") or {}
    inputs = [Change(t.label(k) if k in t.inputs else k, ia.get(k), ib.get(k))
              for k in sorted(set(ia) | set(ib), key=lambda k: list(t.inputs).index(k) if k in t.inputs else 999)
              if json.dumps(ia.get(k), default=str) != json.dumps(ib.get(k), default=str)]
    sa = {i["id"]: i for i in (a.get("report") or {}).get("indicators") or []}
    sb = {i["id"]: i for i in (b.get("report") or {}).get("indicators") or []}
    scores = [Change(sb.get(k, sa.get(k, {})).get("name", k), sa.get(k, {}).get("score"), sb.get(k, {}).get("score"))
              for k in list(sb) + [k for k in sa if k not in sb]
              if sa.get(k, {}).get("score") != sb.get(k, {}).get("score")]
    for key, label in (("total", "总分"), ("grade", "等次"), ("errors", "错误数"), ("warnings", "警告数")):
        if a.get(key) != b.get(key):
            scores.append(Change(label, a.get(key), b.get(key)))
    return {"inputs": inputs, "scores": scores}
