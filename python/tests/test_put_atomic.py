"""A put is all or nothing: an error, a KeyboardInterrupt or a kill -9 part-way through
leaves no sealed blob and no object behind."""

import os
import select
import signal
import subprocess
import sys

import pytest

import vineyard_java as vj
import vineyard_java.types.dataframe as dataframe_module
from conftest import subprocess_env
from helpers import settled_usage, wait_until

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")



def _frame(columns=5, rows=20000):
    return pd.DataFrame({"c%d" % i: np.arange(rows, dtype=np.float64) + i for i in range(columns)})


@pytest.fixture
def accounted(accounting_daemon):
    """``(client, baseline usage)`` on the accounting daemon."""
    client = vj.connect(accounting_daemon.socket)
    try:
        yield client, settled_usage(client, connections=1)
    finally:
        client.close()


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_error_midway_through_a_dataframe_put_leaves_nothing(accounted, monkeypatch, error):
    client, baseline = accounted
    real = dataframe_module.build_tensor
    calls = []

    def third_column_fails(c, column, **kwargs):
        calls.append(column)
        if len(calls) == 3:
            raise error("column writer failed")
        return real(c, column, **kwargs)

    monkeypatch.setattr(dataframe_module, "build_tensor", third_column_fails)
    before = client.instance_status()
    with pytest.raises(error):
        client.put(_frame(), name="never-%s" % error.__name__)
    assert len(calls) == 3
    after = client.instance_status()
    assert after["memory_usage"] == baseline
    assert after["ipc_connections"] == before["ipc_connections"]  # the connection is fine
    assert client.list_objects("vineyard::DataFrame", limit=1000) == []
    assert client.list_objects("vineyard::Tensor*", limit=1000) == []
    with pytest.raises(vj.ObjectNotExists):
        client.get_name("never-%s" % error.__name__)

    monkeypatch.setattr(dataframe_module, "build_tensor", real)
    frame = _frame()
    oid = client.put(frame, name="after-%s" % error.__name__)
    pd.testing.assert_frame_equal(client.get(name="after-%s" % error.__name__), frame)
    client.delete(oid)
    assert client.instance_status()["memory_usage"] == baseline


class _Dangling:
    """A value whose builder writes a blob, then refers to an object that does not exist."""


def _build_dangling(client, _value, **_kwargs):
    writer = client.create_blob(100000)
    writer.copy(0, b"x" * 100000)
    meta = vj.ObjectMeta("test::Dangling")
    meta.add_member("buffer_", writer)
    meta.add_member("ghost_", vj.ObjectID(0x0000000000001234))
    return client.create_metadata(meta)


def test_a_refused_put_object_drops_the_blobs(accounted, monkeypatch):
    """The final request fails (a member does not exist): the blob written is dropped."""
    from vineyard_java.types import registry

    client, baseline = accounted
    monkeypatch.setitem(registry._builders, "test_put_atomic._Dangling", _build_dangling)
    with pytest.raises(vj.VineyardError) as info:
        client.put(_Dangling())
    assert info.value.from_server, info.value  # refused by the daemon, not by the builder
    assert client.instance_status()["memory_usage"] == baseline
    assert client.list_objects("test::Dangling", limit=1000) == []


_PUTTER = r"""
import sys
import numpy as np
import pandas as pd
import vineyard_java as vj
import vineyard_java.types.dataframe as dataframe_module

client = vj.connect(sys.argv[1])
real = dataframe_module.build_tensor
calls = []

def gated(c, column, **kwargs):
    calls.append(column)
    if len(calls) == 3:  # two columns written: say so, then wait for the parent
        sys.stdout.write("paused\n")
        sys.stdout.flush()
        sys.stdin.readline()
    return real(c, column, **kwargs)

dataframe_module.build_tensor = gated
frame = pd.DataFrame({"c%d" % i: np.arange(100000, dtype=np.float64) for i in range(5)})
client.put(frame, name="killed-putter")
"""


def test_kill_9_midway_through_a_put_leaves_nothing(accounted, accounting_daemon):
    client, baseline = accounted
    env = subprocess_env()
    putter = subprocess.Popen(
        [sys.executable, "-c", _PUTTER, accounting_daemon.socket],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        ready, _, _ = select.select([putter.stdout], [], [], 120)
        assert ready, "the putter never reached its third column"
        assert putter.stdout.readline() == b"paused\n"
        # two columns (800 kB each) are written, unsealed
        assert client.instance_status()["memory_usage"] >= baseline + 2 * 800000
        os.kill(putter.pid, signal.SIGKILL)
        assert putter.wait(timeout=60) == -signal.SIGKILL
    finally:
        if putter.poll() is None:
            putter.kill()
            putter.wait(timeout=60)
        putter.stdin.close()
        putter.stdout.close()
    assert wait_until(lambda: client.instance_status()["memory_usage"] == baseline), client.instance_status()
    assert client.list_objects("vineyard::*", limit=1000) == []
    with pytest.raises(vj.ObjectNotExists):
        client.get_name("killed-putter")


class _Stray:
    """A value whose builder writes one blob it uses and one it does not."""


def _build_with_stray_blob(client, _value, **_kwargs):
    stray = client.create_blob(50000)
    stray.copy(0, b"s" * 50000)
    used = client.create_blob(8)
    used.copy(0, b"12345678")
    meta = vj.ObjectMeta("test::Stray")
    meta.add_member("buffer_", used)
    return client.create_metadata(meta)


def test_a_put_leaves_only_the_blobs_of_its_object(accounted, monkeypatch):
    from vineyard_java.types import registry

    client, baseline = accounted
    monkeypatch.setitem(registry._builders, "test_put_atomic._Stray", _build_with_stray_blob)
    oid = client.put(_Stray())
    blob_id = client.get_meta(oid).member("buffer_").id
    assert bytes(client.get_blob(blob_id)) == b"12345678"
    assert client.instance_status()["memory_usage"] - baseline < 50000
    client.delete(oid)
    assert client.instance_status()["memory_usage"] == baseline


def test_interrupt_inside_a_request_closes_the_connection(accounting_daemon):
    """Ctrl-C between a request and its reply: the framing is lost, so the client closes the
    connection; the daemon then deletes the unsealed blobs."""
    client = vj.connect(accounting_daemon.socket)
    try:
        baseline = settled_usage(client, connections=1)
        real = client._conn._read_frame
        reads = []

        def interrupted_on_third_reply():
            reads.append(1)
            if len(reads) == 3:  # the third column's create_buffer_reply
                raise KeyboardInterrupt
            return real()

        client._conn._read_frame = interrupted_on_third_reply
        with pytest.raises(KeyboardInterrupt):
            client.put(_frame())
        assert client.closed
        with pytest.raises(vj.VineyardConnectionError):
            client.instance_status()
    finally:
        client.close()
    other = vj.connect(accounting_daemon.socket)
    try:
        assert wait_until(lambda: other.instance_status()["memory_usage"] == baseline), other.instance_status()
    finally:
        other.close()
