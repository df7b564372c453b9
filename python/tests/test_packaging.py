"""The package as pip installs it: names, the default socket, no source tree needed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import vineyard_java as vj
from conftest import PYTHON_DIR, subprocess_env


def test_the_suite_runs_against_the_installed_package_under_bin_test():
    if os.environ.get("VINEYARD_JAVA_INSTALLED") != "1":
        pytest.skip("not run by bin/test (VINEYARD_JAVA_INSTALLED unset): the source tree is used")
    location = Path(vj.__file__).resolve()
    assert PYTHON_DIR not in location.parents, location
    assert "site-packages" in location.parts
    from importlib.metadata import version

    assert version("vineyard-java") == vj.__version__  # distribution name = import name


def test_default_socket_is_the_daemons(tmp_path, monkeypatch):
    runtime = tmp_path / "run"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert vj.default_socket() == str(runtime / "vineyard" / "vineyard.sock")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "missing"))
    assert vj.default_socket() == os.path.expanduser("~/.local/vineyard/vineyard.sock")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert vj.default_socket() == os.path.expanduser("~/.local/vineyard/vineyard.sock")


def test_connect_with_no_socket_finds_a_daemon_on_its_default_socket(tmp_path):
    """A daemon started without --socket, a client given no socket and no VINEYARD_IPC_SOCKET:
    both pick $XDG_RUNTIME_DIR/vineyard/vineyard.sock."""
    from conftest import Daemon

    runtime = tmp_path / "xdg"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))
    env.pop("VINEYARD_IPC_SOCKET", None)
    daemon = Daemon(size="16Mi")
    daemon.socket = str(runtime / "vineyard" / "vineyard.sock")  # what the daemon picks by itself
    if len(daemon.socket) > 100:
        pytest.skip("temporary path too long for a UNIX socket")
    daemon.start_without_socket_flag(env)
    try:
        code = "import vineyard_java as vj\nc = vj.connect()\nprint(c.socket)\nc.close()\n"
        child = dict(subprocess_env(), XDG_RUNTIME_DIR=str(runtime))
        child.pop("VINEYARD_IPC_SOCKET", None)
        done = subprocess.run([sys.executable, "-c", code], env=child, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == daemon.socket
    finally:
        daemon.stop()


def test_connect_with_nothing_listening_names_the_socket(monkeypatch, tmp_path):
    monkeypatch.delenv("VINEYARD_IPC_SOCKET", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(vj.VineyardConnectionError, match=str(tmp_path / "vineyard" / "vineyard.sock")):
        vj.connect()
