"""`pytest --tg-optimize` on a copy of example_project, on the embedded local model, offline.

The 135M model rarely writes a better prompt, so this test does not ask for one: it checks that the
whole loop runs through real components (app code calling litellm's `local/smollm2` provider,
recording, backward, TGD, re-runs) and that it is safe: every prompt file ends as its original or as
the accepted version the report names, nothing is left half-written, and the exit code matches.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"


def test_optimize_example_project_on_the_local_model(tmp_path):
    project = tmp_path / "example_project"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns(".tg_cache", ".tg_journal", "__pycache__")
    )
    originals = {p.name: p.read_text() for p in (project / "prompts").iterdir()}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--tg-optimize", "--tg-steps", "1", "--tg-batch", "2",
         "--tg-report", "report.json", "-p", "no:cacheprovider"],
        cwd=project, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = completed.stdout + completed.stderr
    assert completed.returncode in (0, 1), output
    assert "textgrad task engine: local/smollm2" in output
    assert "textgrad step 1:" in output
    assert "textgrad projection: 1 step(s) over" in output
    closing = output.split("textgrad: what the search tried", 1)[1]  # the last lines say what was tried
    assert "candidate(s) evaluated" in closing
    # the main job's last lines point at the HTML report example_project's pyproject asks for
    lines = completed.stdout.splitlines()
    at = lines.index(f"textgrad HTML report written to {project / 'tg-report.html'}")
    tail = lines[at + 1 :]
    # only pytest's short summary (whose entries span several lines when CI is set) and closing line
    # follow it
    end = next(
        (i for i, line in enumerate(tail) if "short test summary info" in line or line.startswith("=")),
        len(tail),
    )
    after = [line for line in tail[:end] if not line.startswith("textgrad ")]
    assert after == [], after
    page = (project / "tg-report.html").read_text()
    assert "tests/test_classify.py::test_ticket_category[billing]" in page
    assert "pytest_textgrad/" not in output and "UserWarning" not in output
    report = json.loads((project / "report.json").read_text())
    assert report["schema_version"] == 1 and report["exit_status"] == completed.returncode
    assert len(report["tests"]) == 11  # 9 litellm-app tests + 2 OpenAI-SDK-app tests (triage/faq.py)
    assert any(t["before"] == "failed" for t in report["tests"]), "the example must start with failing tests"
    assert report["usage_total"]["calls"] > 0
    step = report["steps"][-1]
    assert step["number"] == 1 and step["candidates"], "step 1 proposed no candidate"
    for prompt in report["prompts"]:
        on_disk = (project / prompt["path"]).read_text()
        name = Path(prompt["path"]).name
        assert prompt["original"] == originals[name]
        assert on_disk == (prompt["final"] if prompt["written"] else originals[name])
    assert not (project / ".tg_journal").exists() or not any((project / ".tg_journal").iterdir())
    assert sorted(p.name for p in (project / "prompts").iterdir()) == sorted(originals)
    all_passed = all(t["after"] == "passed" for t in report["tests"])
    assert (completed.returncode == 0) == all_passed
