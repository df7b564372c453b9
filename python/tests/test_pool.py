"""pyarrow arrays built in the pool (vineyard_java.pool): put seals their blobs in place."""

import gc

import pytest

np = pytest.importorskip("numpy")
pa = pytest.importorskip("pyarrow")

from vineyard_java.pool import discard, pool_buffer, pool_numpy  # noqa: E402

ROWS = 100_000


def _usage(client):
    gc.collect()
    return client.instance_status()["memory_usage"]


def test_numpy_built_in_the_pool_is_put_without_a_copy(client, client2):
    baseline = _usage(client)
    ids = pool_numpy(client, "int64", ROWS)
    np.multiply(np.arange(ROWS, dtype=np.int64), 3, out=ids)
    scores = pool_numpy(client, "float64", ROWS)
    np.multiply(np.arange(ROWS, dtype=np.float64), 0.5, out=scores)
    built = _usage(client) - baseline
    assert built == 16 * ROWS, "the two columns are blobs already"
    batch = pa.record_batch([pa.array(ids), pa.array(scores), pa.array(["x"] * ROWS)], names=["id", "score", "s"])
    oid = client.put(batch, name="in-pool")
    strings = batch.column(2).buffers()[1].size + batch.column(2).buffers()[2].size
    assert _usage(client) - baseline - built == strings, "only the string column (pyarrow's memory) was copied"
    meta = client.get_meta(oid)
    assert meta.member("__columns_-0").member("buffer_").id != meta.member("__columns_-1").member("buffer_").id
    got = client2.get(name="in-pool")
    assert got.column(0).to_pylist()[-1] == 3 * (ROWS - 1)
    assert got.column(1)[7].as_py() == 3.5
    ids[5] = -1   # the put blob is the numpy memory (never written after a put outside a test)
    assert got.column(0)[5].as_py() == -1
    del got, batch, ids, scores
    client.drop_name("in-pool")
    client.delete(oid)
    assert _usage(client) == baseline


def test_a_discarded_pool_buffer_frees_its_blob(client):
    baseline = _usage(client)
    buf = pool_buffer(client, 1 << 20)
    assert buf.is_mutable and buf.size == 1 << 20
    assert _usage(client) - baseline == 1 << 20
    discard(client, buf)
    assert _usage(client) == baseline
    with pytest.raises(ValueError):
        pool_buffer(client, 0)
