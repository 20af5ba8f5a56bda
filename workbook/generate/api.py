"""Public generator API: a factory that builds the base once and renders one workbook per unit."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine import score_values
from ..excel_limits import ExcelLimitError, excel_problems
from ..form.layout import Ctx, build_plan
from ..form.unit import IDENTITY_KEYS, Unit
from ..identity import mac
from ..template import Template, default_template
from ..values import Values
from .patch import BaseWorkbook
from .protection import ProtectionHash
from .render import render_base

DEFAULT_PASSWORD = "jixiao2021"


class WorkbookFactory:
    """Builds the base workbook of a template once; `build` then renders one unit's workbook in milliseconds."""

    key: str | None = None  # the bureau key (hex): when set, each workbook carries its identity MAC

    def __init__(self, template: Template | None = None, password: str = DEFAULT_PASSWORD,
                 locked_identity: bool = True, key: str | None = None, region: str | None = None,
                 bureau: str | None = None):
        """`region` (e.g. 岳阳楼区) and `bureau` (e.g. 岳阳楼区财政局) name the issuer on the cover and guide;
        by default the template's region and “<region>财政局”."""
        self.template = template or default_template()
        self.password = password
        self.key = key
        self.plan = build_plan(self.template, locked_identity=locked_identity, region=region, bureau=bureau)
        protection = ProtectionHash.of(password)  # one salted SHA-512 hash per batch (~50 ms)
        base = render_base(self.plan, protection)
        problems = excel_problems(base)
        if problems:  # a template or layout that Excel would "repair": never hand it to units
            raise ExcelLimitError(problems)
        self.base = BaseWorkbook(base, self.plan, protection)

    def inputs_for(self, unit: Unit | None, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """The raw inputs a unit's workbook starts with: defaults, identity, prefill, then `values`."""
        raw: dict[str, Any] = {k: s.default for k, s in self.template.inputs.items() if s.default}
        if unit:
            raw.update({k: v for k, v in unit.identity().items() if v is not None})
            raw.update(unit.prefill)
        raw.update(values or {})
        return raw

    def build(self, unit: Unit | None = None, values: dict[str, Any] | None = None, *,
              return_id: str | None = None, generated_at: dt.datetime | None = None) -> bytes:
        """One workbook as bytes.  `values` may fill any input, note_*, explain_* or table (goals_qual …)."""
        t = self.template
        raw = self.inputs_for(unit, values)
        tables = {name: raw.pop(name) for name in list(raw) if name in t.form.table_columns}
        explanations = {k.removeprefix("explain_"): v for k, v in raw.items() if k.startswith("explain_")}
        values = Values(t, raw)
        ctx = Ctx(raw=raw, values=values, report=score_values(values, explanations))
        when = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
        meta = {
            "template_id": t.id, "template_version": t.version, "template_hash": t.content_hash,
            "generator": "jixiao", "generator_version": __version__, "return_id": return_id or str(uuid.uuid4()),
            **{k: str(raw.get(k) or "") for k in IDENTITY_KEYS},
            "generated_at": when.isoformat(),
        }
        if self.key:
            meta["mac"] = mac(self.key, meta["return_id"], meta["budget_code"], meta["year"], t.id, t.version)
        return self.base.render(ctx, meta, tables)

    def write(self, path: str | Path, unit: Unit | None = None, values: dict[str, Any] | None = None,
              *, force: bool = True, **kwargs: Any) -> Path:
        """Write one workbook atomically; with force=False an existing file is refused (OutputError)."""
        from ..outputs import write_bytes

        return write_bytes(path, self.build(unit, values, **kwargs), force=force)


def generate_workbook(path: str | Path, unit: Unit, values: dict[str, Any] | None = None,
                      template: Template | None = None, password: str = DEFAULT_PASSWORD) -> Path:
    """Write one unit's workbook to `path`."""
    return WorkbookFactory(template, password).write(path, unit, values)
