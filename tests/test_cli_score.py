"""`jixiao score` and `jixiao template` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app

from .conftest import SEED, seed_inputs

runner = CliRunner()


def test_score_seed_prints_100_and_excellent():
    res = runner.invoke(app, ["score", "--inputs", str(SEED)])
    assert res.exit_code == 0, res.output
    assert "总分 100" in res.output and "优" in res.output


def test_score_json_contract(tmp_path):
    data = {**seed_inputs(), "staff_quota": 39}
    f = tmp_path / "in.json"
    f.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(app, ["score", "--inputs", str(f), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["total"] == 95 and out["grade"] == "优"
    ind = next(i for i in out["indicators"] if i["id"] == "staff_control")
    assert set(ind) >= {"id", "name", "level1", "level2", "max", "score", "basis", "note"}
    assert ind["score"] == 0 and ind["level1"] == "投入"
    assert any(f["code"] == "exceeds_base" and f["severity"] == "warning" for f in out["findings"])
    assert all(set(f) >= {"severity", "code", "where", "message"} for f in out["findings"])


def test_score_exit_1_on_error_finding(tmp_path):
    f = tmp_path / "in.json"
    f.write_text(json.dumps({**seed_inputs(), "staff_quota": None}), encoding="utf-8")
    res = runner.invoke(app, ["score", "--inputs", str(f)])
    assert res.exit_code == 1
    assert "人员编制" in res.output


def test_score_exit_2_on_unreadable_input(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    res = runner.invoke(app, ["score", "--inputs", str(bad)])
    assert res.exit_code == 2 and "不是有效的 JSON" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["score", "--inputs", str(tmp_path / "nope.json")])
    assert res.exit_code == 2 and "找不到文件" in res.output


def test_template_show_and_check(tmp_path):
    res = runner.invoke(app, ["template", "show"])
    assert res.exit_code == 0 and "财政供养人员控制率" in res.output
    res = runner.invoke(app, ["template", "show", "--json"])
    assert len(json.loads(res.output)["indicators"]) == 23
    from workbook.template import DEFAULT_TEMPLATE

    res = runner.invoke(app, ["template", "check", str(DEFAULT_TEMPLATE)])
    assert res.exit_code == 0
    broken = tmp_path / "t.toml"
    broken.write_text(DEFAULT_TEMPLATE.read_text(encoding="utf-8").replace('id = "card_rate"', 'id = "disclosure"'),
                      encoding="utf-8")
    res = runner.invoke(app, ["template", "check", str(broken)])
    assert res.exit_code == 1 and "disclosure" in res.output and "重复" in res.output


def test_internal_error_gets_a_chinese_message_not_a_traceback(monkeypatch, capsys):
    import pytest

    import cli.main as entry

    def broken(**kwargs):
        raise RuntimeError("模拟故障")

    monkeypatch.setattr(entry, "app", broken)
    monkeypatch.delenv("JIXIAO_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exc:
        entry.main()
    assert exc.value.code == 3
    err = capsys.readouterr().err
    assert "内部错误" in err and "模拟故障" in err and "Traceback" not in err
