"""Cell styles of the generated workbook (xlsxwriter format properties), by name."""

from __future__ import annotations

from typing import Any

FONT = "宋体"
INPUT_FILL = "#FFF2CC"  # light yellow: the cells a unit types into
FORMULA_FILL = "#EDEDED"  # grey: formulas, locked
HEADER_FILL = "#DDEBF7"

_base = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}
_box = {**_base, "border": 1, "text_wrap": True}
_input = {**_box, "bg_color": INPUT_FILL, "locked": False}
_formula = {**_box, "bg_color": FORMULA_FILL, "locked": True}

STYLES: dict[str, dict[str, Any]] = {
    "plain": {**_base},
    "title": {**_base, "bold": True, "font_size": 16, "align": "center"},
    "cover_title": {**_base, "bold": True, "font_size": 20, "align": "center", "text_wrap": True},
    "cover_year": {**_base, "bold": True, "font_size": 16, "align": "center", "locked": True},
    "cover_bureau": {**_base, "bold": True, "font_size": 14, "align": "center", "valign": "bottom"},
    "subtitle": {**_base, "bold": True, "font_size": 12, "align": "left"},
    "heading": {**_base, "bold": True, "font_size": 13},
    "guide": {**_base, "text_wrap": True, "valign": "top"},
    "header": {**_box, "bold": True, "align": "center", "bg_color": HEADER_FILL},
    "label": {**_box, "align": "left"},
    "label_center": {**_box, "align": "center"},
    "center": {**_box, "align": "center"},
    "text": {**_box},
    "text_top": {**_box, "valign": "top"},
    "help": {**_box, "font_size": 9, "font_color": "#595959"},
    "criteria": {**_box, "align": "left", "valign": "vcenter"},
    "points": {**_box, "align": "center", "num_format": "General"},  # "5" and "0.5" (0.## shows "5.")
    "points_bold": {**_box, "align": "center", "bold": True, "num_format": "0"},
    "input": {**_input},
    "input_long": {**_input, "valign": "top"},
    "input_span": {**_input, "valign": "top", "locked": True},  # the rest of a merged input (its first cell edits)
    "input_note": {**_input, "font_size": 10},
    "input_money": {**_input, "num_format": "#,##0.00", "align": "right"},
    "input_int": {**_input, "num_format": "0", "align": "right"},
    "input_date": {**_input, "num_format": "yyyy-mm-dd", "align": "left"},
    "identity": {**_box, "locked": True, "bg_color": FORMULA_FILL, "align": "left"},
    "formula": {**_formula},
    "formula_text": {**_formula, "align": "left"},
    "formula_center": {**_formula, "align": "center"},
    "formula_money": {**_formula, "num_format": "#,##0.00", "align": "right"},
    "score": {**_formula, "num_format": "0.00", "align": "center", "bold": True},
    "score_total": {**_formula, "num_format": "0.00", "align": "center", "bold": True, "font_size": 12},
    "grade": {**_formula, "align": "center", "bold": True, "font_size": 12},
    "status": {**_formula, "align": "center", "bold": True},
    "meta": {**_base, "locked": True},
    # conditional formats (only colours)
    "cf_bad": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    "cf_warn": {"bg_color": "#FFEB9C", "font_color": "#9C5700"},
    "cf_info": {"bg_color": "#DDEBF7", "font_color": "#1F4E78"},
    "cf_good": {"bg_color": "#C6EFCE", "font_color": "#006100"},
}

# styles of cells a unit may edit (unlocked)
UNLOCKED = {name for name, props in STYLES.items() if props.get("locked") is False}
