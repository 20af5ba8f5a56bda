"""Compatibility alias: the plan moved to the form contract layer (workbook.form.roster)."""

import sys

from ..form import roster as _moved

sys.modules[__name__] = _moved
