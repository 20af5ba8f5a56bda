"""Generate row-form workbooks (附件3-1): one per project, rendered from the row plan like 附件3-2's."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from .. import __version__
from ..excel_limits import ExcelLimitError, excel_problems
from ..form.rowform import RowForm
from ..form.rowplan import RowCtx, build_row_plan
from ..form.unit import Unit
from ..identity import mac, project_identity
from ..rowengine import score_row_form
from .api import DEFAULT_PASSWORD
from .patch import BaseWorkbook
from .protection import ProtectionHash
from .render import render_base


class RowWorkbookFactory:
    """Builds a row form's base workbook once; `build` renders one project's workbook."""

    def __init__(self, form: RowForm, password: str = DEFAULT_PASSWORD, locked_identity: bool = True,
                 key: str | None = None, bureau: str | None = None):
        self.form = form
        self.key = key
        self.plan = build_row_plan(form, locked_identity, bureau)
        protection = ProtectionHash.of(password)
        base = render_base(self.plan, protection)
        problems = excel_problems(base)
        if problems:
            raise ExcelLimitError(problems)
        self.base = BaseWorkbook(base, self.plan, protection)

    def build(self, unit: Unit | None = None, values: dict[str, Any] | None = None, *,
              return_id: str | None = None, generated_at: dt.datetime | None = None) -> bytes:
        """One project's workbook; the unit's prefill carries project_name, project_code and prefilled amounts."""
        f = self.form
        raw: dict[str, Any] = {**(unit.identity() if unit else {}), **(unit.prefill if unit else {}), **(values or {})}
        ctx = RowCtx(raw=raw, values=None, report=score_row_form(f, raw), form=f)
        when = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
        meta = {"template_id": f.id, "template_version": f.version, "template_hash": f.content_hash,
                "generator": "jixiao", "generator_version": __version__, "return_id": return_id or str(uuid.uuid4()),
                "generated_at": when.isoformat()}
        for key in ("unit_name", "budget_code", "parent_dept", "year", "project_name", "project_code"):
            meta[key] = str(raw.get(key) or "")
        if self.key:
            meta["mac"] = mac(self.key, meta["return_id"], meta["budget_code"], meta["year"], f.id, f.version,
                              project_identity(meta["project_code"], meta["project_name"]))
        return self.base.render(ctx, meta, {})

    def write(self, path: str | Path, unit: Unit | None = None, values: dict[str, Any] | None = None,
              *, force: bool = True, **kwargs: Any) -> Path:
        from ..outputs import write_bytes

        return write_bytes(path, self.build(unit, values, **kwargs), force=force)
