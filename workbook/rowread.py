"""Reading a row-form return (附件3-1): inputs by their names, cached formula values, every formula cell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .form.rowform import RowForm
from .form.rowplan import build_row_plan
from .xlsx import split_ref

IDENTITY_KEYS = ("unit_name", "budget_code", "parent_dept", "year", "project_name", "project_code")


def row_plan(form: RowForm):
    plan = form.__dict__.get("_plan")
    if plan is None:
        plan = form.__dict__["_plan"] = build_row_plan(form)
    return plan


def read_row_return(ret: Any, form: RowForm, names: dict[str, str], named: Callable, sheet_read: Callable) -> None:
    """Fill `ret` (a read.Return) with the inputs and cached values of a workbook of `form` (the reader
    collects every sheet's formulas, constants and formats itself)."""
    plan = row_plan(form)
    keys = [f.key for f in form.identity] + form.input_keys()
    for key in keys:
        loc = split_ref(names.get(key, ""))
        if not loc:
            continue
        ret.input_cells[key] = f"{loc[0]}!{loc[1]}"
        cell = named(key)
        value = cell.value if cell else None
        if cell is not None and cell.formula is not None:
            ret.input_problems[key] = f"「{loc[0]}」{loc[1]} 是公式 {cell.formula[:80]}，填报单元格只能直接填写数值或文字"
        elif cell is not None and cell.bad:
            ret.input_problems[key] = (f"「{loc[0]}」{loc[1]} 的值“{str(value)[:40]}”不是电子表格能识别的数字或文字"
                                       "（全角数字、非数、无穷大或超出范围）")
        if isinstance(value, str) and value.strip(" ") == "" and key.startswith(("funds_", "ind_")):
            value = None
        ret.inputs[key] = str(value) if cell is not None and cell.bad else value
    empty = []
    for _sheet, cell in plan.formula_cells():
        cd = named(cell.name) if cell.name else None
        if cd is None:
            continue
        if cd.has_value:
            ret.cached[cell.name] = cd.value
        elif cd.formula and (cell.name.startswith("score_ind_") or cell.name == "funds_rate"):
            ret.cached[cell.name] = ""  # an unused row, no rate: "" (an empty <v/>, as Excel writes it)
            empty.append(cell.name)
        elif cd.formula:
            ret.uncached.add(cell.name)
    if ret.uncached:  # never calculated (the total has no value either): those cells are uncached, not ""
        for name in empty:
            del ret.cached[name]
            ret.uncached.add(name)
    ret.unit = {k: ret.inputs.get(k) for k in IDENTITY_KEYS}
