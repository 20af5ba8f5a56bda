"""Render a WorkbookPlan with xlsxwriter into the base workbook (variable cells left as placeholders)."""

from __future__ import annotations

import io
import re

import xlsxwriter

from ..form.layout import META_KEYS, WorkbookPlan
from ..form.refs import absolute  # noqa: F401  (re-exported)
from ..form.styles import STYLES
from ..form.textfit import MARGIN_SIDE_IN, MARGIN_TOP_IN
from .protection import ProtectionHash, rehash_workbook_sheets

SHEET_PROTECTION = {
    "format_columns": True,  # let clerks widen a column or row to read long text
    "format_rows": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}


def render_base(plan: WorkbookPlan, protection: ProtectionHash) -> bytes:
    """The base workbook: every static cell, style, merge, name, validation and protection."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    t = plan.template
    wb.set_properties({"title": t.form_title, "subject": t.title, "author": "jixiao", "company": plan.bureau,
                       "comments": f"jixiao 模板 {t.id} {t.version}"})
    fmts = {name: wb.add_format(props) for name, props in STYLES.items()}
    for sp in plan.sheets:
        ws = wb.add_worksheet(sp.name)
        ws.set_paper(9)  # A4
        ws.set_margins(left=MARGIN_SIDE_IN, right=MARGIN_SIDE_IN, top=MARGIN_TOP_IN, bottom=MARGIN_TOP_IN)
        ws.center_horizontally()
        if sp.scale:
            ws.set_print_scale(sp.scale)
        else:
            ws.fit_to_pages(1, 0)
        ws.set_footer("&C第 &P 页，共 &N 页")
        ws.set_header(f"&L{sp.name}&R{t.title}" if sp.name != "_jixiao" else "")
        if sp.landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        if sp.repeat_rows:
            ws.repeat_rows(*sp.repeat_rows)
        if sp.breaks:
            ws.set_h_pagebreaks(sp.breaks)
        for col, width in sp.widths.items():
            ws.set_column(col, col, width)
        for col in sorted(sp.hidden_cols):
            ws.set_column(col, col, 8, None, {"hidden": True})
        for row, height in sp.heights.items():
            ws.set_row(row, height)
        for m in sp.merges:
            if (m.r1, m.c1) == (m.r2, m.c2):
                ws.write_string(m.r1, m.c1, m.text, fmts[m.style])
            else:
                ws.merge_range(m.r1, m.c1, m.r2, m.c2, m.text, fmts[m.style])
        for c in sp.cells:
            f = fmts[c.style]
            if c.kind == "label":
                if isinstance(c.value, (int, float)):
                    ws.write_number(c.row, c.col, c.value, f)
                else:
                    ws.write_string(c.row, c.col, c.value or "", f)
            elif c.kind == "input":
                ws.write_blank(c.row, c.col, None, f)
                if c.validation:
                    ws.data_validation(c.row, c.col, c.row, c.col, c.validation)
            else:
                ws.write_formula(c.row, c.col, c.value, f, 0)
        for rng, opts in sp.conditional:
            ws.conditional_format(rng, {**opts, "format": fmts[opts["format"]]})
        if sp.freeze:
            ws.freeze_panes(*sp.freeze)
        if sp.protect:
            ws.protect("", SHEET_PROTECTION)  # the password hash is set below (rehash_workbook_sheets)
        if sp.very_hidden:
            ws.very_hidden()
    for name, (sheet, row, col) in sorted(plan.names.items()):
        wb.define_name(name, absolute(sheet, row, col))
    for name, (sheet, r1, c1, r2, c2) in sorted(plan.ranges.items()):
        wb.define_name(name, absolute(sheet, r1, c1, r2, c2))
    for key in META_KEYS:
        wb.set_custom_property(f"jixiao_{key}", "-")
    wb.close()
    return rehash_workbook_sheets(buf.getvalue(), protection)


_WORKBOOK_PR = re.compile(rb"<workbookPr[^>]*/>")


def protect_structure(workbook_xml: bytes, protection: ProtectionHash) -> bytes:
    """Insert <workbookProtection lockStructure="1"> (xlsxwriter has no API for it), after workbookPr."""
    tag = f'<workbookProtection {protection.attributes("workbook")} lockStructure="1"/>'.encode()
    m = _WORKBOOK_PR.search(workbook_xml)
    if not m:
        raise ValueError("workbook.xml has no workbookPr element")
    return workbook_xml[: m.end()] + tag + workbook_xml[m.end():]
