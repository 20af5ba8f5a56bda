"""Compatibility alias: the plan moved to the form contract layer (workbook.form.textfit)."""

import sys

from ..form import textfit as _moved

sys.modules[__name__] = _moved
