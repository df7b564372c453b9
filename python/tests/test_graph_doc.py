"""Every ```python example of docs/graph.md runs against the session's test daemon."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "graph.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_doc_has_examples():
    assert EXAMPLES


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_doc_example_runs(index, vineyard_socket):
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    code = EXAMPLES[index].replace('"/path/to/vineyard.sock"', repr(vineyard_socket))
    exec(compile(code, "%s example %d" % (DOC.name, index + 1), "exec"), {"__name__": "doc_example"})
