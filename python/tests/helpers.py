"""Small helpers shared by the tests (importable from test modules and subprocesses)."""

import subprocess


def address_in_regions(address, nbytes, regions, writable=None):
    """True when ``[address, address + nbytes)`` lies inside one of ``regions``
    (``(start, length, writable)`` tuples from ``IPCClient.mapped_regions``)."""
    for start, length, is_writable in regions:
        if writable is not None and is_writable != writable:
            continue
        if start <= address and address + nbytes <= start + length:
            return True
    return False


def proc_maps_entry(address):
    """The ``/proc/self/maps`` line whose range holds ``address`` as
    ``(perms, pathname)``, or ``None``."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)
            low, high = (int(x, 16) for x in fields[0].split("-"))
            if low <= address < high:
                return fields[1], (fields[5].strip() if len(fields) > 5 else "")
    return None


def wait_until(predicate, timeout=30.0, interval=0.02):
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass (bounded); returns its
    last value."""
    import threading
    import time

    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if predicate():
            return True
        pause.wait(interval)
    return predicate()


def settled_usage(client, connections):
    """The daemon's ``memory_usage`` once exactly ``connections`` IPC connections are open
    (earlier tests' connections gone and their holds released), bounded by a 30 s wait."""
    assert wait_until(lambda: client.instance_status()["ipc_connections"] == connections), client.instance_status()
    return client.instance_status()["memory_usage"]


def require_extension(client, request_type):
    """Skip the test unless the daemon serves the extension ``request_type`` (the suite also
    runs against ``vineyardd --noextensions``)."""
    import pytest

    if request_type not in client.extensions:
        pytest.skip("%s is an extension this daemon does not serve (--noextensions)" % request_type)


def stop_process(proc, timeout=10.0):
    """SIGTERM to a server process the test started, SIGKILL when it has not exited within ``timeout``."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
