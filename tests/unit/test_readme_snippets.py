"""The README's ScriptedEngine example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_scripted_engine_example_runs():
    block = re.search(
        r"```python\n(from pytest_textgrad import ScriptedEngine\n.*?)```", README.read_text(), re.DOTALL
    )
    assert block, "the README lost its ScriptedEngine example"
    namespace: dict = {}
    exec(compile(block.group(1), "README ScriptedEngine example", "exec"), namespace)
    engine = namespace["engine"]
    assert engine.calls[0].reply == "Paris"
    assert engine.generate("no rule matches this") == "first unmatched reply"
    assert (
        engine.generate("The text to improve is...") == '{"reasoning": "", "improved_variable": "new prompt"}'
    )
