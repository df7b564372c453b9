"""Which requests the client sends: vineyard's standard ones against a daemon without the
extensions (``vineyardd --noextensions`` answers those exactly as vineyard's vineyardd 0.24
does), one ``get_object`` / ``put_object`` per get / put where they are advertised.

Requests are recorded where they leave the client (every frame written on the socket), so the
record includes the releases that ride in front of a request."""

import gc
import json
import signal
import struct

import pytest

import vineyard_java as vj
from conftest import EXTRA_FLAGS, running_daemon
from helpers import settled_usage, wait_until
from test_put_atomic import _build_dangling, _Dangling

np = pytest.importorskip("numpy")

MB = 1_000_000


class _Log(list):
    """Request types in the order written; ``writes`` counts the writes that carried them."""

    writes = 0


def record_requests(client):
    """Patch the client's connection to log the type of every request written; returns the log."""
    conn = client._conn
    sent = _Log()
    real = conn._sock.sendall

    class Recorder:
        def __init__(self, sock):
            self._sock = sock

        def sendall(self, data):
            view = memoryview(data).cast("B")
            try:
                types = []
                while len(view):
                    (size,) = struct.unpack_from("<Q", view)
                    types.append(json.loads(bytes(view[8:8 + size]))["type"])
                    view = view[8 + size:]
                sent.extend(types)
                sent.writes += 1
            except (struct.error, ValueError, KeyError, TypeError):
                sent.append("<bytes>")  # blob bytes of an RPC upload
            return real(data)

        def __getattr__(self, name):
            return getattr(self._sock, name)

    conn._sock = Recorder(conn._sock)
    return sent


@pytest.fixture(scope="module")
def standard_daemon():
    """A daemon serving vineyard 0.24's protocol only (in either mode of the suite)."""
    with running_daemon(size="128Mi", flags=["--noextensions"]) as d:
        yield d


@pytest.fixture
def standard_client(standard_daemon):
    c = vj.connect(standard_daemon.socket)
    try:
        yield c
    finally:
        c.close()


def test_no_extensions_are_advertised_and_theirs_are_refused_as_vineyardd_does(standard_client):
    assert standard_client.extensions == frozenset()
    assert standard_client.protocol_path == "standard"
    for request in ("get_object_request", "put_object_request", "release_buffers_request", "server_stats_request"):
        with pytest.raises(vj.InvalidError) as info:
            standard_client._request({"type": request, "id": 1, "ids": [], "reply": True})
        assert info.value.code == 1
        assert info.value.message == "Got unexpected command: %s" % request
    with pytest.raises(vj.VineyardNotImplemented, match="server_stats_request is an extension"):
        standard_client.server_stats()


def test_put_and_get_use_vineyards_standard_requests(standard_client):
    sent = record_requests(standard_client)
    array = np.arange(1000, dtype=np.float64)
    oid = standard_client.put(array, name="standard-array")
    assert sent == [
        "create_buffer_request",
        "seal_request",
        "create_data_request",
        "persist_request",
        "put_name_request",
    ]
    del sent[:]
    got = standard_client.get(oid)
    np.testing.assert_array_equal(got, array)
    # the seal's hold is released (release_request) in front of the get's first request
    assert sent == ["release_request", "get_data_request", "get_buffers_request"]
    del sent[:]
    by_name = standard_client.get(name="standard-array")
    np.testing.assert_array_equal(by_name, array)
    # the first value's blob is held again by this get: no release goes out for it
    assert sent == ["get_name_request", "get_data_request", "get_buffers_request"]
    del sent[:]
    sent.writes = 0
    again = standard_client.get(oid)  # an object seen before: both requests in one write
    np.testing.assert_array_equal(again, array)
    assert sent == ["get_data_request", "get_buffers_request"] and sent.writes == 1
    del again
    del sent[:]
    del got, by_name
    gc.collect()
    standard_client.instance_status()
    assert sent == ["release_request", "instance_status_request"]
    assert standard_client.held_blobs() == {}
    standard_client.delete(oid)


def test_a_deleted_object_is_not_got_from_a_known_tree(standard_client):
    oid = standard_client.put(np.arange(10))
    assert standard_client.get(oid)[9] == 9
    standard_client.delete(oid)
    with pytest.raises(vj.ObjectNotExists):
        standard_client.get(oid)
    gc.collect()
    standard_client.instance_status()
    assert standard_client.held_blobs() == {}


def test_pandas_and_arrow_round_trip_on_the_standard_path(standard_client):
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"a": np.arange(100), "b": np.linspace(0, 1, 100)})
    oid = standard_client.put(frame)
    pd.testing.assert_frame_equal(standard_client.get(oid), frame)
    table = pa.table({"x": pa.array(["p", None, "q"]), "y": pa.array([1, 2, 3])})
    tid = standard_client.put(table)
    assert standard_client.get(tid).equals(table)
    standard_client.delete([oid, tid])


def test_holds_are_released_with_standard_requests(standard_daemon):
    """A reader's hold keeps a deleted blob's memory; its release (release_request, no round
    trip of its own) gives it back: seen through allocations only (no server_stats)."""
    writer = vj.connect(standard_daemon.socket)
    reader = vj.connect(standard_daemon.socket)
    try:
        settled_usage(writer, connections=2)
        oid = writer.put(np.ones(80 * MB // 8))  # 80 MB of the 128 MiB pool
        array = reader.get(oid)
        writer.delete(oid)
        with pytest.raises(vj.NotEnoughMemory):
            writer.create_blob(80 * MB)  # the reader still holds the memory
        del array
        gc.collect()
        reader.instance_status()  # carries the release; its reply is read before this one
        blob = writer.create_blob(80 * MB)
        blob.abort()
    finally:
        reader.close()
        writer.close()


def test_a_failed_standard_put_undoes_its_seals(standard_client, monkeypatch):
    """create_data refuses the tree after the blobs were sealed: the put deletes them."""
    from vineyard_java.types import registry

    baseline = settled_usage(standard_client, connections=1)

    monkeypatch.setitem(registry._builders, "test_put_atomic._Dangling", _build_dangling)
    sent = record_requests(standard_client)
    with pytest.raises(vj.VineyardError) as info:
        standard_client.put(_Dangling())
    assert info.value.from_server
    assert "seal_request" in sent and "create_data_request" in sent and "del_data_request" in sent
    assert standard_client.instance_status()["memory_usage"] == baseline
    assert standard_client.list_objects("vineyard::Blob", limit=100) == []


def _bounded(step, seconds=60.0):
    """Run ``step`` on a thread and return its result; fails the test (instead of hanging the
    suite) when it has not finished within ``seconds``."""
    import threading

    result = {}

    def run():
        try:
            result["value"] = step()
        except BaseException as exc:  # re-raised on the test's thread
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "%s did not finish within %s s (blocked connection)" % (step, seconds)
    if "error" in result:
        raise result["error"]
    return result.get("value")


def test_thousands_of_standard_seals_and_releases_do_not_block_the_connection(standard_client):
    """A put of 5000 blobs pipelines 5000 seal_requests and a get's release defers 5000
    release_requests: written without reading their replies, the daemon's replies would fill
    both socket buffers and neither side would read again."""
    pd = pytest.importorskip("pandas")
    baseline = settled_usage(standard_client, connections=1)
    frame = pd.DataFrame({"c%d" % i: np.array([i], dtype=np.int64) for i in range(5000)})
    oid = _bounded(lambda: standard_client.put(frame))
    got = _bounded(lambda: standard_client.get(oid))
    assert list(got.columns) == list(frame.columns) and got.iloc[0].tolist() == list(range(5000))
    del got
    gc.collect()
    _bounded(lambda: standard_client.delete(oid))
    _bounded(standard_client.flush_releases)
    assert _bounded(lambda: wait_until(lambda: standard_client.instance_status()["memory_usage"] == baseline))
    assert standard_client.list_objects("vineyard::*", limit=10) == []


@pytest.mark.parametrize("mode", ["standard", "default"])
def test_ctrl_c_during_the_commit_leaves_nothing(mode, standard_daemon, accounting_daemon):
    """A real SIGINT while the put's commit is on the wire: the commit's replies are read, the
    object is undone, KeyboardInterrupt is raised and the connection stays usable."""
    daemon = standard_daemon if mode == "standard" else accounting_daemon
    client = vj.connect(daemon.socket)
    try:
        baseline = settled_usage(client, connections=1)
        real_put = client._path.put

        def interrupted_put(*args, **kwargs):
            signal.raise_signal(signal.SIGINT)  # delivered while the commit runs
            return real_put(*args, **kwargs)

        client._path.put = interrupted_put
        with pytest.raises(KeyboardInterrupt):
            client.put(np.arange(100000, dtype=np.float64), name="interrupted-%s" % mode)
        client._path.put = real_put
        assert not client.closed
        with pytest.raises(vj.ObjectNotExists):
            client.get_name("interrupted-%s" % mode)
        assert client.list_objects("vineyard::*", limit=100) == []
        assert wait_until(lambda: client.instance_status()["memory_usage"] == baseline)
    finally:
        client.close()


def test_one_request_per_get_and_put_where_advertised(client):
    if "--noextensions" in EXTRA_FLAGS:
        pytest.skip("the extensions are off in this run (--noextensions)")
    assert {"get_object_request", "put_object_request", "release_buffers_request"} <= client.extensions
    assert client.protocol_path == "extensions"
    sent = record_requests(client)
    oid = client.put(np.arange(10.0), name="one-request")
    assert sent == ["create_buffer_request", "put_object_request"]
    del sent[:]
    for _ in range(3):
        assert client.get(oid)[3] == 3.0
    assert sent == ["get_object_request"] * 3
    del sent[:]
    client.get(name="one-request")
    assert sent == ["get_object_request"]
    client.delete(oid)
