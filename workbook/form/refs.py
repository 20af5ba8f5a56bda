"""Absolute cell and range references of the plan (the text of a defined name)."""

from __future__ import annotations


def absolute(sheet: str, row: int, col: int, row2: int | None = None, col2: int | None = None) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    ref = xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
    if row2 is not None:
        ref += ":" + xl_rowcol_to_cell(row2, col2, row_abs=True, col_abs=True)
    return f"='{sheet}'!{ref}"
