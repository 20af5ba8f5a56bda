"""Generate the locked, formula-driven 自评 workbook (one per unit)."""

from .api import DEFAULT_PASSWORD, Unit, WorkbookFactory, generate_workbook

__all__ = ["DEFAULT_PASSWORD", "Unit", "WorkbookFactory", "generate_workbook"]
