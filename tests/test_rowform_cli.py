"""`--form` on score and template show, through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_score_a_project_return(tmp_path):
    f = tmp_path / "x.json"
    f.write_text(json.dumps({
        "funds_current_budget": 100, "funds_current_executed": 85,
        "ind_output_1_name": "培训人次", "ind_output_1_nature": "≥", "ind_output_1_target": 200,
        "ind_output_1_actual": 180, "ind_output_1_points": 50,
        "ind_benefit_1_name": "就业", "ind_benefit_1_nature": "定性", "ind_benefit_1_target": "提升",
        "ind_benefit_1_actual": "基本达成", "ind_benefit_1_points": 30,
        "ind_satisfaction_1_name": "满意度", "ind_satisfaction_1_nature": "≥", "ind_satisfaction_1_target": 90,
        "ind_satisfaction_1_actual": 95, "ind_satisfaction_1_points": 10}), encoding="utf-8")
    r = run("score", "--form", "xiangmu", "-i", str(f), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    # 8.5 (85 %) + 45 (50×180/200) + 24 (30×0.8) + 10
    assert d["total"] == 87.5 and d["grade"] == "良" and d["template"]["id"] == "jixiao.xiangmu"
    assert d["computed"]["funds_rate"] == 85
    f.write_text(json.dumps({"ind_output_1_name": "x", "ind_output_1_points": 50}), encoding="utf-8")
    r = run("score", "--form", "xiangmu", "-i", str(f))
    assert r.returncode == 1 and "missing_input" in r.stdout and "Traceback" not in r.stderr


def test_unknown_form_is_a_clear_exit_2(tmp_path):
    f = tmp_path / "x.json"
    f.write_text("{}", encoding="utf-8")
    r = run("score", "--form", "nosuch", "-i", str(f))
    assert r.returncode == 2 and "没有名为 'nosuch' 的内置表单" in r.stderr + r.stdout and "xiangmu" in r.stderr + r.stdout


def test_template_show_lists_the_builtin_forms_and_shows_the_row_form():
    r = run("template", "show")
    assert r.returncode == 0 and "xiangmu" in r.stdout and "zhengti" in r.stdout
    r = run("template", "show", "--form", "xiangmu", "--json")
    d = json.loads(r.stdout)
    assert [(lv["id"], lv["rows"], lv["points"]) for lv in d["levels"]] == [
        ("output", 12, 50), ("benefit", 8, 30), ("satisfaction", 3, 10)]
    assert "ind_output_3_target" in d["inputs"]
    r = run("template", "show", "--form", "zhengti", "--json")
    assert json.loads(r.stdout)["id"] == "jixiao.zhengti"
