"""The form contract: the workbook plan built from the template alone.

The plan (sheets, cells, defined names, expected formulas, template-owned cells, the identity a
workbook carries) is what the generator writes and what the reader and verifier check against.
generate/ renders it; read, verify, store, status and consolidate use it; neither side imports the
other's internals.
"""

from .layout import META, META_KEYS, Ctx, WorkbookPlan, build_plan
from .refs import absolute
from .unit import Unit

__all__ = ["META", "META_KEYS", "Ctx", "Unit", "WorkbookPlan", "absolute", "build_plan"]
