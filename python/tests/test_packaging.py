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


def test_pip_install_into_a_fresh_venv(tmp_path, vineyard_socket):
    """``pip install ./python`` (from the local wheel folders: setuptools for the build) into a
    new venv without the machine's packages: the client imports and works, with no dependency."""
    import shutil

    links = subprocess.run(["bash", str(PYTHON_DIR / "install-deps.sh"), "--find-links"], capture_output=True,
                           text=True, check=True).stdout.split()
    if "--find-links" not in links:
        pytest.skip("no local wheel folder to build the package from")
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PYTHON_DIR / name, source / name)
    shutil.copytree(PYTHON_DIR / "vineyard_java", source / "vineyard_java",
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *links, str(source)],
                   check=True, timeout=600)
    code = ("import vineyard_java as vj, sys\n"
            "from importlib.metadata import version\n"
            "with vj.connect(sys.argv[1]) as c:\n"
            "    oid = c.put(b'installed')\n"
            "    assert bytes(c.get(oid)) == b'installed'\n"
            "    c.delete(oid)\n"
            "print(version('vineyard-java'), vj.__file__)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([python, "-c", code, vineyard_socket], capture_output=True, text=True, env=env,
                          cwd=str(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    installed_version, location = done.stdout.split()
    assert installed_version == vj.__version__
    assert str(venv) in location
