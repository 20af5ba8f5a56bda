"""jixiao 财政局工作台（`jixiao serve`）：回收台账、收表、单位详情、审核、年度任务、汇总。

A thin Starlette layer over the `workbook` library: it never parses workbooks or computes scores.
"""
