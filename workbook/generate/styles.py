"""Compatibility alias: the plan moved to the form contract layer (workbook.form.styles)."""

import sys

from ..form import styles as _moved

sys.modules[__name__] = _moved
