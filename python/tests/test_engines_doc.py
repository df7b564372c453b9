"""Every ```python example of docs/engines.md runs against a test daemon ("/path/to/vineyard.sock")."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "engines.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_doc_has_examples():
    assert len(EXAMPLES) == 2


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_engines_doc_example_runs(index, vineyard_socket, client):
    pytest.importorskip("pyarrow")
    if "duckdb" in EXAMPLES[index].lower():
        pytest.importorskip("duckdb")
    code = EXAMPLES[index].replace('"/path/to/vineyard.sock"', repr(vineyard_socket))
    scope = {"__name__": "engines_doc_example"}
    exec(compile(code, "%s example %d" % (DOC.name, index + 1), "exec"), scope)
    for name in ("events", "sums"):   # what the examples named, so later tests start clean
        try:
            oid = client.get_name(name)
        except KeyError:
            continue
        client.drop_name(name)
        client.delete(oid)
    if "oid" in scope and client.exists(scope["oid"]):
        client.delete(scope["oid"])
