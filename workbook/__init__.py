"""jixiao: 部门整体支出绩效自评 — template, scoring engine, workbook generator, reader and bureau tools."""

__version__ = "0.1.0"
