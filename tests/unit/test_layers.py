"""The layers are checked, not hoped for: ``lint-imports`` (import-linter) holds every contract in
pyproject.toml, and a planted violation breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` on ``project`` (its pyproject.toml, its copy of the package)."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_project(target: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    shutil.copytree(
        ROOT / "pytest_textgrad", target / "pytest_textgrad", ignore=shutil.ignore_patterns("__pycache__")
    )
    return target


def test_every_import_contract_holds() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/loss.py", "import pytest", "core never imports pytest or litellm BROKEN"),
        (
            "engines/usage.py",
            "from pytest_textgrad.core import Variable",
            "Layers: plugin > optim > core > engines BROKEN",
        ),
        (
            "plugin/prompts/files.py",
            "from pytest_textgrad.plugin import gate",
            "Plugin wings: report > optimize > gate",
        ),
        (
            "plugin/report/model.py",
            "from pytest_textgrad.plugin.gate import hooks",
            "Other wings use gate/ only through its __init__ BROKEN",
        ),
        (
            "plugin/capture/judge.py",
            "from pytest_textgrad.plugin.capture import calls",
            "No import circle among the modules",
        ),
    ],
)
def test_a_planted_violation_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    project = copy_project(tmp_path)
    path = project / "pytest_textgrad" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = lint_imports(project)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if " BROKEN" in row]
    assert any(row.startswith(contract) for row in broken), result.stdout
