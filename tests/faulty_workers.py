"""Module-level stand-ins for the worker function (they must pickle): crash, hang or raise on one file."""

from __future__ import annotations

import os
import time

from workbook import batchread

REAL = batchread.check_file


def crashing(path, time_limit=batchread.TIME_LIMIT):
    if path.endswith("r2.xlsx"):
        os._exit(3)  # the worker process dies, as on a segfault or an OOM kill
    return REAL(path, time_limit)


def hanging(path, time_limit=batchread.TIME_LIMIT):
    if path.endswith("r1.xlsx"):
        time.sleep(20)
    return REAL(path, time_limit)


def raising(path, time_limit=batchread.TIME_LIMIT):
    if path.endswith("r3.xlsx"):
        raise RuntimeError("模拟的内部错误")
    return REAL(path, time_limit)
