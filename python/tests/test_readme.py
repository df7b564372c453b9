"""Every ```python example of python/README.md runs against the test daemon."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_readme_example_runs(index, vineyard_socket):
    pytest.importorskip("numpy")
    code = EXAMPLES[index].replace('"/path/to/vineyard.sock"', repr(vineyard_socket))
    exec(compile(code, "%s example %d" % (README.name, index + 1), "exec"), {"__name__": "readme_example"})
