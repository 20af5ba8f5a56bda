"""A roster entry: the identity a workbook is issued to, plus prefilled inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The identity every form's workbook carries (roster columns, locked cells, MAC, store columns): a contract shared
# by all forms (each TOML declares these keys: `identity = true` inputs, or [[identity]] in a row form).
IDENTITY_KEYS = ("unit_name", "budget_code", "parent_dept", "year")


@dataclass
class Unit:
    """A budget unit of the roster: identity plus any prefilled inputs ({key: value})."""

    unit_name: str
    budget_code: str
    year: int
    parent_dept: str | None = None
    prefill: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        return {"unit_name": self.unit_name, "budget_code": self.budget_code, "year": self.year,
                "parent_dept": self.parent_dept}
