"""The README's candidate-search example runs as written (its last line asserts the result)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def test_search_example_runs():
    block = re.search(
        r"```python\n(from pytest_textgrad.optim.search import .*?)```", README.read_text(), re.DOTALL
    )
    assert block, "the README lost its candidate-search example"
    namespace: dict = {}
    exec(compile(block.group(1), "README search example", "exec"), namespace)
    assert namespace["state"].accepted == "Be polite. Mention the 30-day window."
