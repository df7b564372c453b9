"""Holds on got blobs: released when the value is garbage-collected or its lease released,
so that a delete by another connection frees the memory; ``_blob_sizes`` stays bounded."""

import gc

import pytest

import vineyard_java as vj
from helpers import require_extension, settled_usage

np = pytest.importorskip("numpy")


@pytest.fixture
def pair(accounting_daemon):
    """``(writer, reader, baseline usage)`` on the accounting daemon."""
    writer = vj.connect(accounting_daemon.socket)
    reader = vj.connect(accounting_daemon.socket)
    try:
        yield writer, reader, settled_usage(writer, connections=2)
    finally:
        reader.close()
        writer.close()


def _usage(client):
    """Pool bytes not free for reuse: visible blobs (``memory_usage``) plus deleted blobs that a
    reader still holds (``deferred_free_bytes``: the daemon frees those once nobody holds them).
    ``server_stats`` is an extension: without it the test skips (test_paths.py checks holds with
    vineyard's requests only)."""
    require_extension(client, "server_stats_request")
    return client.instance_status()["memory_usage"] + client.server_stats()["deferred_free_bytes"]


def test_gets_released_on_gc_let_a_delete_free_the_memory(pair):
    writer, reader, baseline = pair
    require_extension(writer, "server_stats_request")  # _usage needs deferred_free_bytes
    oid = writer.put(np.arange(1 << 17, dtype=np.float64))  # 1 MiB
    used = _usage(writer)
    assert used > baseline

    for i in range(50):
        array = reader.get(oid)
        assert array[i] == i
        del array
    gc.collect()
    reader.instance_status()  # any request carries the queued release
    assert reader.held_blobs() == {}
    assert len(reader._blob_sizes) == 0

    kept = reader.get(oid)[10:]  # a slice keeps the blob in use as well
    writer.delete(oid)
    assert _usage(writer) == used  # the reader's hold defers the free
    del kept
    gc.collect()
    reader.instance_status()
    assert _usage(writer) == baseline


def test_a_view_cut_from_a_blob_keeps_the_hold(pair):
    writer, reader, baseline = pair
    require_extension(writer, "server_stats_request")  # _usage needs deferred_free_bytes
    blob_id = writer.put(bytes(range(256)) * 64)
    view = reader.get_blob(blob_id)
    array = np.frombuffer(view[8:], dtype=np.uint8)
    del view
    gc.collect()
    reader.instance_status()
    assert blob_id in reader.held_blobs()
    writer.delete(blob_id)
    assert _usage(writer) > baseline
    assert int(array[0]) == 8
    del array
    gc.collect()
    reader.instance_status()
    assert reader.held_blobs() == {}
    assert _usage(writer) == baseline


def test_lease_releases_when_its_block_ends(pair):
    writer, reader, baseline = pair
    require_extension(writer, "server_stats_request")  # _usage needs deferred_free_bytes
    oid = writer.put(np.ones((256, 256)))
    with reader.lease(oid) as array:
        assert array.sum() == 256 * 256
        writer.delete(oid)
        reader.instance_status()
        assert _usage(writer) > baseline  # still held inside the block
    reader.flush_releases()
    reader.instance_status()  # the release was written before this request: it is done
    assert _usage(writer) == baseline
    assert array is not None  # released although the array object still exists


def test_lease_release_and_close_are_idempotent(pair):
    writer, reader, _baseline = pair
    oid = writer.put(np.arange(10))
    lease = reader.lease(oid)
    assert list(lease.value) == list(range(10))
    assert len(lease.blob_ids) == 1 and not lease.released
    lease.release()
    lease.close()
    assert lease.released and lease.value is None
    reader.instance_status()
    assert reader.held_blobs() == {}
    writer.delete(oid)


def test_blob_sizes_stay_bounded(pair):
    writer, reader, baseline = pair
    require_extension(writer, "server_stats_request")  # _usage needs deferred_free_bytes
    for i in range(100):
        oid = writer.put(np.full(100, i))
        assert int(reader.get(oid)[0]) == i
        writer.delete(oid)
        assert len(reader._blob_sizes) <= 1
        assert len(writer._blob_sizes) == 0
    gc.collect()
    reader.instance_status()
    assert reader._blob_sizes == {}
    assert _usage(writer) == baseline

