"""Template loading and lint: every error names the item."""

from __future__ import annotations

import pytest

from workbook.template import DEFAULT_TEMPLATE, TemplateError, default_template, parse_template

SEED_CRITERIA = "以100%为标准。在职人员控制率≦100%，计5分；每超过一个百分点扣0.5分，扣完为止。"


def text():
    return DEFAULT_TEMPLATE.read_text(encoding="utf-8")


def lint_problems(src: str) -> list[str]:
    with pytest.raises(TemplateError) as exc:
        parse_template(src, "broken.toml")
    return exc.value.problems


def test_default_template_is_complete():
    t = default_template()
    assert len(t.indicators) == 23
    assert sum(i.max for i in t.indicators) == 100
    assert [lv.points for lv in t.levels] == [15, 40, 25, 20]
    assert t.indicator("staff_control").criteria == SEED_CRITERIA
    for key in ("staff_quota", "sangong_prior_actual", "satisfaction_rate", "benefit_score", "duty_other"):
        assert key in t.inputs
    assert set(t.computed) == {"income_total", "exp_basic", "exp_total", "sangong_total", "assets_total",
                               "budget_adjust"}


def test_lint_duplicate_indicator_id():
    src = text().replace('id = "card_rate"', 'id = "procurement_rate"')
    assert any("procurement_rate" in p and "重复" in p for p in lint_problems(src))


def test_lint_unknown_input_key():
    src = text().replace('numerator = "staff_actual"', 'numerator = "staff_actul"')
    assert any("staff_actul" in p and "staff_control" in p for p in lint_problems(src))


def test_lint_points_do_not_add_up():
    src = text().replace('id = "asset_safety"\nname = "资产管理安全性"\nlevel = "process"\ngroup = "asset_mgmt"\nmax = 4',
                         'id = "asset_safety"\nname = "资产管理安全性"\nlevel = "process"\ngroup = "asset_mgmt"\nmax = 5')
    problems = lint_problems(src)
    assert any("asset_mgmt" in p and "不等" in p for p in problems)


def test_lint_level_points_must_total_100():
    src = text().replace('name = "产出"\npoints = 25', 'name = "产出"\npoints = 30')
    assert any("100" in p for p in lint_problems(src))


def test_lint_overlapping_and_gapped_bands():
    src = text().replace("{ from = 80, to = 90, score = 4, to_inclusive = false }",
                         "{ from = 80, to = 90, score = 4, to_inclusive = true }")
    assert any("key_spend_rate" in p and "重叠" in p for p in lint_problems(src))
    src = text().replace("{ from = 60, to = 70, score = 2, to_inclusive = false }",
                         "{ from = 61, to = 70, score = 2, to_inclusive = false }")
    assert any("key_spend_rate" in p and "空档" in p for p in lint_problems(src))


def test_lint_missing_label():
    src = text().replace('label = "实有人数", ', "")
    assert any("staff_actual" in p and "label" in p for p in lint_problems(src))


def test_lint_bad_toml_reports_syntax():
    assert any("TOML" in p for p in lint_problems("id = [unclosed"))
