"""The built-in forms: one TOML per form in templates/ (older versions kept as <name>-<version>.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..template import TEMPLATES_DIR


@dataclass(frozen=True)
class FormInfo:
    name: str  # what --form takes: the file's stem (zhengti, xiangmu)
    id: str
    version: str
    title: str
    kind: str  # "indicators" (fixed indicators, 附件3-2) or "rows" (unit-written rows, 附件3-1)
    path: Path


def builtin_forms() -> list[FormInfo]:
    """The current version of every built-in form, by name."""
    out = []
    for p in sorted(TEMPLATES_DIR.glob("*.toml")):
        if "-" in p.stem:
            continue  # an older version, kept so that returns issued with it still verify
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        out.append(FormInfo(p.stem, str(data.get("id", "")), str(data.get("version", "")),
                            str(data.get("title", "")), str(data.get("kind", "indicators")), p))
    return out


def form_named(name: str) -> FormInfo | None:
    return next((f for f in builtin_forms() if f.name == name or f.id == name), None)
