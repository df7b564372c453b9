"""Every ```python example of python/README.md runs against a test daemon (one that serves RPC
too): ``"/path/to/vineyard.sock"`` is its socket, ``"127.0.0.1:9600"`` its RPC endpoint, and
``$VINEYARD_IPC_SOCKET`` names it for the examples that connect without a socket."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_readme_example_runs(index, rpc_daemon, monkeypatch):
    pytest.importorskip("numpy")
    monkeypatch.setenv("VINEYARD_IPC_SOCKET", rpc_daemon.socket)
    code = EXAMPLES[index].replace('"/path/to/vineyard.sock"', repr(rpc_daemon.socket))
    code = code.replace('"127.0.0.1:9600"', repr("127.0.0.1:%d" % rpc_daemon.rpc_port))
    code = code.replace('("127.0.0.1", 9600)', '("127.0.0.1", %d)' % rpc_daemon.rpc_port)
    exec(compile(code, "%s example %d" % (README.name, index + 1), "exec"), {"__name__": "readme_example"})
