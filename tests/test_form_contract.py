"""The form contract layer: the reader and bureau side depend on the plan, never on the generator."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKBOOK = ROOT / "workbook"
# Modules that generate workbooks on purpose (the demo, the desk's yearly task, filling test returns).
GENERATING = {"demo.py", "demo_projects.py", "rosters.py", "fill.py"}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, as an absolute dotted name."""
    pkg = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = pkg.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def test_reader_and_bureau_side_never_import_the_generator():
    offenders = {}
    for path in sorted(WORKBOOK.glob("*.py")):
        if path.name in GENERATING:
            continue
        bad = sorted(m for m in _imports(path) if m == "workbook.generate" or m.startswith("workbook.generate."))
        if bad:
            offenders[path.name] = bad
    assert not offenders, offenders


def test_form_layer_imports_neither_generator_nor_reader():
    for path in sorted((WORKBOOK / "form").glob("*.py")):
        bad = [m for m in _imports(path)
               if m.startswith(("workbook.generate", "workbook.read", "workbook.verify", "workbook.store"))]
        assert not bad, (path.name, bad)


def test_generator_never_imports_the_reader():
    for path in sorted((WORKBOOK / "generate").glob("*.py")):
        bad = [m for m in _imports(path)
               if m.startswith(("workbook.read", "workbook.verify", "workbook.store", "workbook.consolidate"))]
        assert not bad, (path.name, bad)


def test_the_plan_is_reachable_from_the_form_layer_alone():
    from workbook.form import META_KEYS, build_plan
    from workbook.template import default_template

    plan = build_plan(default_template())
    assert plan.names and plan.formula_cells() and plan.input_cells()
    assert {"return_id", "budget_code", "year", "mac"} <= set(META_KEYS)
