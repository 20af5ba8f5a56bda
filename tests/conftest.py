"""Shared fixtures: the seed sample and helpers."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "seed_inputs.json"


def seed_inputs() -> dict:
    data = json.loads(SEED.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


@pytest.fixture
def seed() -> dict:
    return seed_inputs()


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """The soffice binary; skip with a reason locally, fail under CI=true."""
    path = soffice_path()
    if path:
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true 但找不到 LibreOffice（soffice）：.ci/run 应该已安装 libreoffice-calc-nogui")
    pytest.skip("未安装 LibreOffice（soffice），跳过真实电子表格重算测试；apt-get install libreoffice-calc-nogui 后可运行")
    raise AssertionError  # unreachable
