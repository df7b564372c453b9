"""The RPC client against a daemon serving RPC on a free port: metadata, remote blob create and
get (bytes over the socket, raw or zstd), numpy/pandas/pyarrow values with the IPC API, and
all-or-nothing puts; in both modes of the suite (with and without the extensions)."""

import pytest

import vineyard_java as vj
from helpers import settled_usage, wait_until
from test_paths import record_requests
from test_put_atomic import _build_dangling, _Dangling

np = pytest.importorskip("numpy")


@pytest.fixture
def pair(rpc_daemon):
    """``(rpc client, ipc client)`` on the RPC daemon."""
    rpc = vj.connect("127.0.0.1:%d" % rpc_daemon.rpc_port)
    ipc = vj.connect(rpc_daemon.socket)
    try:
        yield rpc, ipc
    finally:
        rpc.close()
        ipc.close()


def test_connect_with_host_port_gives_an_rpc_client(rpc_daemon):
    with vj.connect("127.0.0.1:%d" % rpc_daemon.rpc_port) as a, vj.connect_rpc("127.0.0.1", rpc_daemon.rpc_port) as b:
        assert isinstance(a, vj.RPCClient) and isinstance(b, vj.RPCClient)
        assert a.instance_status()["rpc_connections"] >= 2
        assert a.extensions == b.extensions
    with pytest.raises(vj.VineyardConnectionError):
        vj.connect_rpc("127.0.0.1", 1)


def test_values_put_over_rpc_read_the_same_over_ipc_and_rpc(pair):
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    rpc, ipc = pair
    values = [
        np.arange(24, dtype=np.int32).reshape(2, 3, 4),
        np.asfortranarray(np.linspace(0, 1, 12).reshape(3, 4)),
        pd.DataFrame({"a": np.arange(50), "b": ["x%d" % i for i in range(50)]}),
        pa.table({"s": pa.array(["p", None, "q"]), "n": pa.array([1.5, 2.5, None])}),
        b"raw bytes",
        12345,
        "text",
    ]
    ids = [rpc.put(v) for v in values]
    for value, oid in zip(values, ids):
        for reader in (rpc, ipc):
            got = reader.get(oid)
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(got, value)
            elif isinstance(value, pd.DataFrame):
                pd.testing.assert_frame_equal(got, value)
            elif isinstance(value, pa.Table):
                assert got.equals(value)
            elif isinstance(value, bytes):
                assert bytes(got) == value
            else:
                assert got == value
    rpc.delete(ids)


def test_ipc_put_rpc_get_of_a_large_array(pair):
    rpc, ipc = pair
    array = np.random.default_rng(7).random(2_000_000)  # 16 MB of bytes over the socket
    oid = ipc.put(array, name="big-over-rpc")
    got = rpc.get(name="big-over-rpc")
    np.testing.assert_array_equal(got, array)
    assert not got.flags.writeable  # as over IPC: read-only
    ipc.delete(oid)


def test_remote_blobs_and_metadata(pair):
    rpc, ipc = pair
    blob_id = rpc.create_remote_blob(b"hello over tcp")
    assert blob_id.is_blob
    assert bytes(rpc.get_blob(blob_id)) == b"hello over tcp"
    assert bytes(ipc.get_blob(blob_id)) == b"hello over tcp"
    writer = rpc.create_blob(4)
    writer.buffer[:] = b"abcd"
    second = writer.seal()
    assert [bytes(v) for v in rpc.get_remote_blobs([blob_id, second])] == [b"hello over tcp", b"abcd"]
    rpc.delete([blob_id, second])
    with pytest.raises(vj.ObjectNotExists):
        rpc.get_blob(blob_id)

    oid = rpc.put(np.ones(10), name="meta-over-rpc")
    meta = rpc.get_meta(oid)
    assert meta.typename == "vineyard::Tensor<double>" and meta.get_json("shape_") == [10]
    assert rpc.get_name("meta-over-rpc") == oid
    assert "meta-over-rpc" in rpc.list_names("meta-*")
    assert oid in [m.id for m in rpc.list_objects("vineyard::Tensor*", limit=10000)]
    assert rpc.exists(oid) and rpc.is_persisted(oid)
    rpc.delete(oid)
    assert not ipc.exists(oid)


def test_compressed_transfers(rpc_daemon):
    pytest.importorskip("zstandard")
    with vj.connect_rpc("127.0.0.1", rpc_daemon.rpc_port, compress=True) as rpc:
        assert rpc.compress  # the daemon advertises support_rpc_compression
        array = np.repeat(np.arange(1000, dtype=np.int64), 3000)  # 24 MB, compressible, > one 4 MiB chunk
        oid = rpc.put(array)
        np.testing.assert_array_equal(rpc.get(oid), array)
        with vj.connect(rpc_daemon.socket) as ipc:
            np.testing.assert_array_equal(ipc.get(oid), array)
        rpc.delete(oid)


def test_requests_over_rpc(pair):
    rpc, _ipc = pair
    sent = record_requests(rpc)
    oid = rpc.put(np.arange(5.0))
    assert sent[:2] == ["create_remote_buffers_request", "<bytes>"]
    if rpc.protocol_path == "extensions":
        assert sent[2:] == ["put_object_request"]
    else:
        assert sent[2:] == ["release_request", "create_data_request"]
    del sent[:]
    rpc.get(oid)
    assert [t for t in sent if t != "release_request"] == ["get_data_request", "get_remote_buffers_request"]
    rpc.delete(oid)


def test_a_refused_rpc_put_leaves_nothing(pair, monkeypatch):
    from vineyard_java.types import registry

    rpc, ipc = pair
    baseline = settled_usage(ipc, connections=1)
    blobs = {m.id for m in ipc.list_objects("vineyard::Blob", limit=10000)}
    monkeypatch.setitem(registry._builders, "test_put_atomic._Dangling", _build_dangling)
    with pytest.raises(vj.VineyardError) as info:
        rpc.put(_Dangling())
    assert info.value.from_server
    assert wait_until(lambda: ipc.instance_status()["memory_usage"] == baseline), ipc.instance_status()
    assert {m.id for m in ipc.list_objects("vineyard::Blob", limit=10000)} == blobs


def test_rpc_puts_hold_nothing_once_committed(pair):
    rpc, ipc = pair
    baseline = settled_usage(ipc, connections=1)
    oid = rpc.put(np.ones(1 << 20))  # 8 MiB
    assert ipc.instance_status()["memory_usage"] >= baseline + 8 * (1 << 20)
    np.testing.assert_array_equal(rpc.get(oid)[:3], [1, 1, 1])
    ipc.delete(oid)
    # the daemon frees the memory at once: no connection (the RPC one included) holds it
    blob = ipc.create_blob(200 * (1 << 20))
    blob.abort()
