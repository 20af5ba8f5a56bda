"""Compatibility alias: the plan moved to the form contract layer (workbook.form.layout)."""

import sys

from ..form import layout as _moved

sys.modules[__name__] = _moved
