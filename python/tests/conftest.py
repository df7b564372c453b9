"""Fixtures: a vineyardd started by the tests themselves.

The daemon command is ``$VINEYARDD`` when set, else ``<repo>/bin/vineyardd`` (which builds
the Java project first if needed).  Each daemon gets a fresh socket under a private temporary
directory and ``--norpc``, then the flags of ``$VINEYARDD_FLAGS`` (shell words: ``bin/test`` runs
the suite once more with ``--noextensions``); the fixture waits (bounded by ``$VINEYARDD_START_TIMEOUT``,
default 600 s to leave room for a build) for its ``vineyardd ready:`` line and stops it by
PID with SIGTERM at the end.
"""

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = PYTHON_DIR.parent
TESTS_DIR = Path(__file__).resolve().parent
# The installed package when there is one (bin/test installs it into its venv and runs the suite
# from outside python/), else the source tree next to the tests.
try:
    import vineyard_java as vj  # noqa: E402
except ImportError:
    sys.path.insert(0, str(PYTHON_DIR))
    import vineyard_java as vj  # noqa: E402

#: the directory that holds the ``vineyard_java`` package the tests use.
PACKAGE_PARENT = str(Path(vj.__file__).resolve().parents[1])


def subprocess_env():
    """The environment for a Python child process: it imports the same ``vineyard_java`` as the
    tests and can import ``helpers``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PACKAGE_PARENT, str(TESTS_DIR), env.get("PYTHONPATH", "")])
    return env

READY_PREFIX = "vineyardd ready:"
#: extra daemon flags for every test daemon (e.g. ``--noextensions``).
EXTRA_FLAGS = shlex.split(os.environ.get("VINEYARDD_FLAGS", ""))
START_TIMEOUT = float(os.environ.get("VINEYARDD_START_TIMEOUT", "600"))
STOP_TIMEOUT = 30.0


def daemon_command():
    """The daemon's argv prefix: ``$VINEYARDD`` (a path, or a shell-style command line) or
    ``<repo>/bin/vineyardd``."""
    configured = os.environ.get("VINEYARDD")
    if configured:
        if os.path.exists(configured):
            return [configured]
        return shlex.split(configured)
    return [str(REPO_DIR / "bin" / "vineyardd")]


class Daemon:
    """One vineyardd process on a private socket."""

    def __init__(self, size="256Mi", flags=()):
        base = os.environ.get("TMPDIR") or "/tmp"
        # AF_UNIX paths are limited to 107 bytes: keep the directory short.
        if len(base) > 60:
            base = "/tmp"
        self.dir = tempfile.mkdtemp(prefix="vjpy-", dir=base)
        self.socket = os.path.join(self.dir, "vineyard.sock")
        self.log_path = os.path.join(self.dir, "vineyardd.log")
        self.size = size
        self.flags = list(flags)
        self.proc = None
        self._ready = threading.Event()
        self._ready_line = None

    def _pump(self, log):
        """Copy the daemon's output to the log; flag the ready line (or EOF)."""
        try:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                if self._ready_line is None and line.startswith(READY_PREFIX):
                    self._ready_line = line.strip()
                    self._ready.set()
        finally:
            self._ready.set()  # EOF: the process is gone; start() sees it

    def start_without_socket_flag(self, env):
        """Start with no ``--socket`` (the daemon picks its default, which :attr:`socket` must
        name) and the environment ``env``."""
        return self.start(env=env, socket_flag=False)

    def start(self, timeout=START_TIMEOUT, env=None, socket_flag=True):
        argv = daemon_command() + (["--socket=%s" % self.socket] if socket_flag else [])
        argv += ["--size=%s" % self.size, "--norpc"] + EXTRA_FLAGS + self.flags
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            errors="replace",
        )
        threading.Thread(target=self._pump, args=(log,), daemon=True, name="vineyardd-log").start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("vineyardd printed no ready line within %.0f s; log: %s" % (timeout, self.log_tail()))
        if self._ready_line is None or not os.path.exists(self.socket):
            code = self.proc.poll()
            self.stop()
            raise RuntimeError(
                "vineyardd did not come up (exit status %s, argv %s); log: %s" % (code, argv, self.log_tail())
            )
        return self

    def log_tail(self, lines=30):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "<no log>"

    def stop(self):
        """SIGTERM by PID, wait (bounded), SIGKILL if it lingers."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def running_daemon(size="256Mi", flags=()):
    """A started :class:`Daemon` (``flags`` after ``$VINEYARDD_FLAGS``), stopped on exit."""
    d = Daemon(size=size, flags=flags).start()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="session")
def daemon():
    """The session's vineyardd."""
    with running_daemon() as d:
        yield d


@pytest.fixture(scope="session")
def vineyard_socket(daemon):
    """Path of the session daemon's IPC socket."""
    return daemon.socket


@pytest.fixture
def client(vineyard_socket):
    """A fresh connection, closed after the test."""
    c = vj.connect(vineyard_socket)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def client2(vineyard_socket):
    """A second, independent connection."""
    c = vj.connect(vineyard_socket)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="session")
def accounting_daemon():
    """A daemon for tests that compare memory usage with a baseline: no other test's
    connections come and go on it while such a test runs."""
    with running_daemon(size="64Mi") as d:
        yield d


@pytest.fixture
def private_daemon():
    """A short-lived daemon of its own, for tests that stop it."""
    with running_daemon(size="64Mi") as d:
        yield d



@pytest.fixture(scope="session")
def rpc_daemon():
    """A daemon that also serves RPC, on a port it picks (``--rpc_socket_port=0``);
    ``rpc_port`` is that port (from ``register_reply.rpc_endpoint``)."""
    with running_daemon(size="256Mi", flags=["--rpc", "--rpc_socket_port=0"]) as d:
        with vj.connect(d.socket) as ipc:
            d.rpc_port = int(ipc.rpc_endpoint.rpartition(":")[2])
        assert d.rpc_port > 0, ipc.rpc_endpoint
        yield d
