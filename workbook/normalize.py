"""Token-wise formula normalisation: Excel, WPS and LibreOffice re-serialise formulas differently.

Removed or folded: the leading '=', whitespace, '$', case outside string literals,
quotes around sheet names, _xlfn./_xlws. prefixes, and number spelling: a numeric literal is
compared by the double it denotes (0.50 = .5, 5 = 5.0, 0.2 = 0.200000000000000000003 as Gnumeric
writes it).  String literals are kept exactly.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_TOKEN = re.compile(
    r'(?P<str>"(?:[^"]|"")*")'
    r"|(?P<sheet>'(?:[^']|'')+'!)"
    r"|(?P<num>(?<![A-Za-z0-9_.])(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?(?![A-Za-z0-9_(]))"
    r"|(?P<word>[A-Za-z_\\][A-Za-z0-9_.]*!?)"
    r"|(?P<ws>\s+)"
    r"|(?P<other>.)",
    re.S,
)


@lru_cache(maxsize=8192)
def normalize_formula(formula: str) -> str:
    text = formula[1:] if formula.startswith("=") else formula
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        tok = m.group()
        if kind == "str":
            out.append(tok)
        elif kind == "sheet":
            out.append(tok[1:-2].replace("''", "'").upper() + "!")
        elif kind == "num":
            out.append(_number(tok))
        elif kind == "word":
            w = tok.upper()
            for prefix in ("_XLFN.", "_XLWS."):
                if w.startswith(prefix):
                    w = w[len(prefix):]
            out.append(w)
        elif kind == "ws":
            continue
        elif tok == "$":
            continue
        else:
            out.append(tok)
    return "".join(out)


def _number(tok: str) -> str:
    """A numeric literal by value: the shortest decimal spelling of the double it denotes."""
    try:
        value = float(Decimal(tok))
    except (InvalidOperation, OverflowError):
        return tok
    return format(Decimal(repr(value)).normalize(), "f")


def same_formula(a: str, b: str) -> bool:
    return a == b or normalize_formula(a) == normalize_formula(b)
