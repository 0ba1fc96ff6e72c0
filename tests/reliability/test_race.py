"""Simultaneous ``--tg-optimize`` runs in one project: exactly one proceeds, the others stop at once
with a usage error, and the survivor's journal is never removed under it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from plugin.conftest import write_project
from plugin.test_optimize import GOOD, ORIGINAL, SUPPORT_CONFTEST, SUPPORT_TESTS, WORDY

START_LINE = '''

import os as _os
import time as _time

while not _os.path.exists("go"):  # every run waits here, then all reach pytest_configure together
    _time.sleep(0.005)


@pytest.fixture(autouse=True)
def _slow():
    _time.sleep(0.1)  # the winner holds the lock long enough for every other run to try
'''
RUNS = 3


def test_simultaneous_optimize_runs_never_both_proceed(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=SUPPORT_CONFTEST.format(good=GOOD, wordy=WORDY, updates=[GOOD]) + START_LINE,
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--tg-optimize", "-q"]
    runs = [
        subprocess.Popen(command, cwd=pytester.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(RUNS)
    ]
    (pytester.path / "go").write_text("")
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0] + [pytest.ExitCode.USAGE_ERROR] * (RUNS - 1), [r[1][-600:] + r[2][-600:] for r in results]
    for code, _, err in results:
        if code == pytest.ExitCode.USAGE_ERROR:
            assert "another pytest --tg-optimize run is in progress in this project" in err
    assert (pytester.path / "prompts/support.txt").read_text() == GOOD + "\n"
    assert not (pytester.path / ".tg_journal").exists()
