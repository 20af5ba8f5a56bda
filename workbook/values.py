"""Normalise raw inputs ({key: value}) against the template: blanks, types, ranges, computed values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .numbers import ZERO, fmt_points, q2, to_decimal
from .template import Input, Template


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


class Values:
    """Inputs as the rules see them.  `missing` and `invalid` list what a finding must report.

    `unusable` holds keys whose value cannot be used at all (wrong type); a range
    violation is reported in `invalid` but the value is still used, exactly as the
    workbook's formulas use it.
    """

    def __init__(self, template: Template, raw: Mapping[str, Any]):
        self.t = template
        self.raw = dict(raw)
        self.nums: dict[str, Decimal] = {}
        self.texts: dict[str, str] = {}
        self.blank: set[str] = set()
        self.invalid: dict[str, str] = {}
        self.unusable: set[str] = set()
        for key, spec in template.inputs.items():
            self._take(spec, raw.get(key))
        self.computed: dict[str, Decimal] = {}
        for key, c in template.computed.items():
            value = sum((self.num(k) for k in c.plus), ZERO) - sum((self.num(k) for k in c.minus), ZERO)
            if c.floor_zero:
                value = max(ZERO, value)
            self.computed[key] = q2(value)

    def _take(self, spec: Input, value: Any) -> None:
        key = spec.key
        if is_blank(value):
            self.blank.add(key)
            return
        if spec.type == "text":
            self.texts[key] = value if isinstance(value, str) else str(value)
            return
        if spec.type == "yesno":
            if value in ("是", "否"):
                self.texts[key] = value
            else:
                self.invalid[key] = f"应选择“是”或“否”，实际为 {value!r}"
                self.unusable.add(key)
            return
        if spec.type == "date":
            if isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
                self.texts[key] = str(value)
                return
            if isinstance(value, str):
                try:
                    dt.date.fromisoformat(value.strip()[:10])
                    self.texts[key] = value
                    return
                except ValueError:
                    pass
            self.invalid[key] = f"应为日期，实际为 {value!r}"
            self.unusable.add(key)
            return
        # numeric types
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            self.invalid[key] = f"应为数字，实际为 {value!r}"
            self.unusable.add(key)
            return
        number = to_decimal(value)
        self.nums[key] = number
        problems = []
        if spec.min is not None and number < spec.min:
            problems.append(f"不应小于 {fmt_points(spec.min)}")
        if spec.max is not None and number > spec.max:
            problems.append(f"不应大于 {fmt_points(spec.max)}")
        if spec.type == "int" and number != number.to_integral_value():
            problems.append("应为整数")
        if problems:
            self.invalid[key] = f"{fmt_points(number)}{spec.unit if spec.unit not in ('文本', '是否') else ''}：" + "，".join(problems)

    # -- ValueSource -------------------------------------------------------
    def num(self, key: str) -> Decimal:
        if key in self.computed:
            return self.computed[key]
        return self.nums.get(key, ZERO)

    def text(self, key: str) -> str | None:
        return self.texts.get(key)

    def present(self, key: str) -> bool:
        return key not in self.blank and key not in self.unusable

    def label(self, key: str) -> str:
        return self.t.label(key)
