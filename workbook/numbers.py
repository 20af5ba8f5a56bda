"""Decimal arithmetic with Excel's ROUND semantics (rules.md §1)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def to_decimal(value: object) -> Decimal:
    """Convert a number to Decimal through its shortest repr, as spreadsheets see it."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation as exc:
            raise TypeError(f"not a number: {value!r}") from exc
    raise TypeError(f"not a number: {value!r}")


def excel_round(value: Decimal, digits: int = 2) -> Decimal:
    """ROUND(value, digits) as Excel does it: half away from zero on the decimal value."""
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def q2(value: Decimal) -> Decimal:
    """ROUND(value, 2)."""
    return excel_round(value, 2)


def round_down(value: Decimal) -> Decimal:
    """ROUNDDOWN(value, 0) for a non-negative value."""
    return value.to_integral_value(rounding="ROUND_DOWN")


def round_up(value: Decimal) -> Decimal:
    """ROUNDUP(value, 0) for a non-negative value."""
    return value.to_integral_value(rounding="ROUND_UP")


def fmt(value: Decimal | float | int | None, digits: int = 2) -> str:
    """Format a number the way the workbook's TEXT(x,"0.00") does."""
    if value is None:
        return "—"
    d = excel_round(to_decimal(value), digits)
    if d == 0:
        d = abs(d)  # never "-0.00"
    return f"{d:.{digits}f}"


def fmt_points(value: Decimal | float | int) -> str:
    """Format a score without trailing zeros (3, 3.5, 3.34)."""
    d = q2(to_decimal(value)).normalize()
    text = format(d, "f")
    return text


def excel_number(value: Decimal | int | float) -> str:
    """Render a constant for an Excel formula (no exponent, no trailing zeros)."""
    d = to_decimal(value).normalize()
    return format(d, "f")
