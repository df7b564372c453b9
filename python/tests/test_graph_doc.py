"""Every ```python example of docs/graph.md runs against the session's test daemon (the ones of its
cluster section, on two daemons, run in test_graph_cluster.py)."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "graph.md"
ALL_EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
CLUSTER_SOCKETS = ('"/tmp/vineyard-a.sock"', '"/tmp/vineyard-b.sock"')
EXAMPLES = [e for e in ALL_EXAMPLES if not any(s in e for s in CLUSTER_SOCKETS)]
CLUSTER_EXAMPLES = [e for e in ALL_EXAMPLES if all(s in e for s in CLUSTER_SOCKETS)]


def test_the_doc_has_examples():
    assert EXAMPLES and CLUSTER_EXAMPLES
    assert len(EXAMPLES) + len(CLUSTER_EXAMPLES) == len(ALL_EXAMPLES), "every example runs somewhere"


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_doc_example_runs(index, vineyard_socket):
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    code = EXAMPLES[index].replace('"/path/to/vineyard.sock"', repr(vineyard_socket))
    exec(compile(code, "%s example %d" % (DOC.name, index + 1), "exec"), {"__name__": "doc_example"})
