"""The README's GitHub Actions workflows parse, and use only options the plugin has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pytest_textgrad.plugin.options import OPTIONS

README = Path(__file__).resolve().parents[2] / "README.md"


def workflows() -> dict[str, dict]:
    blocks = re.findall(r"```yaml\n(# \.github/workflows/(\S+).*?)```", README.read_text(), flags=re.DOTALL)
    return {name: yaml.safe_load(text) for text, name in blocks}


def test_both_workflows_are_valid_and_use_real_options():
    found = workflows()
    assert set(found) == {"prompt-gate.yml", "optimize-prompts.yml"}
    known = {option.flag for option in OPTIONS}
    for name, workflow in found.items():
        steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
        commands = " ".join(step.get("run", "") for step in steps)
        used = set(re.findall(r"--tg-[a-z-]+", commands))
        assert used, name
        assert used <= known, f"{name} uses unknown options: {sorted(used - known)}"
    gate = " ".join(s.get("run", "") for s in found["prompt-gate.yml"]["jobs"]["prompts"]["steps"])
    assert "--tg-record-mode none" in gate and "--tg-fail-on regression" in gate
    assert "workflow_dispatch" in found["optimize-prompts.yml"][True]  # YAML 1.1 reads `on:` as True
