"""Every ```python example of docs/io.md runs against a test daemon, in a temporary directory that
holds the ``trips.csv`` it reads; ``"/path/to/vineyard.sock"`` is the daemon's socket."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "io.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_doc_has_examples():
    assert len(EXAMPLES) >= 1


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_doc_example_runs(index, vineyard_socket, tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trips.csv").write_text("id|fare|city\n1|9.5|Paris\n2|12.25|Rome\n3|7|Oslo\n")
    code = EXAMPLES[index].replace('"/path/to/vineyard.sock"', repr(vineyard_socket))
    exec(compile(code, "%s example %d" % (DOC.name, index + 1), "exec"), {"__name__": "doc_example"})
