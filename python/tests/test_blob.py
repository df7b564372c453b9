"""Blobs: create, write, seal, read from another connection and from another process."""

import json
import subprocess
import sys

import pytest

import vineyard_java as vj
from conftest import subprocess_env
from helpers import address_in_regions, proc_maps_entry



def test_blob_round_trip_between_two_connections(client, client2):
    payload = bytes(range(256)) * 16
    writer = client.create_blob(len(payload))
    assert writer.size == len(payload)
    assert not writer.buffer.readonly
    writer.buffer[:] = payload
    blob_id = writer.seal()
    assert blob_id.is_blob and writer.sealed

    view = client2.get_blob(blob_id)
    assert view.readonly
    assert bytes(view) == payload
    # the reader's bytes live inside its read-only mapping of the pool
    address = vj._buffer.buffer_address(view)
    assert address_in_regions(address, len(view), client2.mapped_regions(), writable=False)


def test_reader_view_is_the_shared_memory_not_a_copy(client, client2):
    writer = client.create_blob(64)
    writer.buffer[:] = b"a" * 64
    blob_id = writer.seal()
    view = client2.get_blob(blob_id)
    assert bytes(view[:4]) == b"aaaa"
    # the writer still holds a writable mapping: a change shows through the reader's view
    writer.buffer[0:4] = b"wxyz"
    assert bytes(view[:4]) == b"wxyz"


def test_read_only_view_rejects_writes(client):
    writer = client.create_blob(8)
    writer.copy(0, b"12345678")
    view = client.get_blob(writer.seal())
    with pytest.raises(TypeError):
        view[0:1] = b"x"


def test_store_fd_is_received_once_per_connection(client, client2):
    ids = []
    for size in (100, 200, 300):
        w = client.create_blob(size)
        w.copy(0, bytes([size % 256]) * size)
        ids.append(w.seal())
    views = client2.get_blobs(ids)
    assert [len(v) for v in views] == [100, 200, 300]
    assert [v[0] for v in views] == [100, 200, 300 % 256]
    # one store: the reader made exactly one (read-only) mapping for all three
    assert len(client2.mapped_regions()) == 1
    # and can fetch again without any new fd
    assert bytes(client2.get_blob(ids[0])) == bytes([100]) * 100


def test_empty_blob(client, client2):
    writer = client.create_blob(0)
    assert writer.id == vj.EMPTY_BLOB_ID
    assert writer.size == 0
    assert writer.seal() == vj.EMPTY_BLOB_ID
    assert bytes(client2.get_blob(vj.EMPTY_BLOB_ID)) == b""


def test_put_and_get_bytes(client, client2):
    blob_id = client.put(b"hello vineyard")
    assert blob_id.is_blob
    assert bytes(client2.get(blob_id)) == b"hello vineyard"


def test_unsealed_blob_is_invisible_to_others_unless_unsafe(client, client2):
    writer = client.create_blob(32)
    writer.copy(0, b"x" * 32)
    with pytest.raises(vj.ObjectNotSealed) as info:
        client2.get_blob(writer.id)
    assert info.value.code == 14
    assert bytes(client2.get_blob(writer.id, unsafe=True)) == b"x" * 32
    writer.seal()
    assert bytes(client2.get_blob(writer.id)) == b"x" * 32


def test_blob_writer_bounds_and_abort(client, client2):
    writer = client.create_blob(4)
    with pytest.raises(ValueError):
        writer.copy(2, b"abc")
    writer.abort()
    with pytest.raises(vj.ObjectNotExists):
        client2.get_blob(writer.id, unsafe=True)


def test_shrink_blob(client, client2):
    writer = client.create_blob(1024)
    writer.copy(0, b"z" * 10)
    writer.shrink(10)
    blob_id = writer.seal()
    assert bytes(client2.get_blob(blob_id)) == b"z" * 10


def test_blob_read_in_another_process_lies_in_its_shared_mapping(client, vineyard_socket):
    np = pytest.importorskip("numpy")
    values = np.arange(1000, dtype=np.float64) * 1.5
    oid = client.put(values)
    blob_id = client.get_meta(oid).member("buffer_").id

    script = r"""
import json, sys
import vineyard_java as vj
from helpers import address_in_regions, proc_maps_entry
client = vj.connect(sys.argv[1])
array = client.get(vj.ObjectID(sys.argv[2]))
blob = client.get_blob(vj.ObjectID(sys.argv[3]))
address = array.ctypes.data
print(json.dumps({
    "address": address,
    "nbytes": int(array.nbytes),
    "blob_address": vj._buffer.buffer_address(blob),
    "regions": client.mapped_regions(),
    "maps_entry": proc_maps_entry(address),
    "writeable": bool(array.flags.writeable),
    "values": array.tolist(),
    "dtype": str(array.dtype),
}))
client.close()
"""
    env = subprocess_env()
    done = subprocess.run(
        [sys.executable, "-c", script, vineyard_socket, str(oid), str(blob_id)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["values"] == values.tolist()
    assert report["dtype"] == "float64"
    assert report["writeable"] is False
    # the array starts at the blob and lies inside the reader's read-only mapping
    assert report["address"] == report["blob_address"]
    regions = [tuple(r) for r in report["regions"]]
    assert address_in_regions(report["address"], report["nbytes"], regions, writable=False)
    # ... which the kernel reports as a shared, read-only mapping
    perms, _path = report["maps_entry"]
    assert perms.startswith("r") and perms[1] == "-" and perms[3] == "s", perms


def test_one_client_shared_by_threads(vineyard_socket, client2):
    """Several threads share one fresh connection (the store fd arrives during the concurrent
    phase); every blob must come back intact.  A smoke test: the race it guards against (a
    request slipping between a reply and its fd) has a narrow window."""
    import threading

    shared = vj.connect(vineyard_socket)
    errors, made = [], []
    start = threading.Barrier(4)

    def work(tag):
        try:
            start.wait(timeout=30)
            for i in range(15):
                data = bytes([tag]) * (64 + i)
                writer = shared.create_blob(len(data))
                writer.copy(0, data)
                blob_id = writer.seal()
                assert bytes(shared.get_blob(blob_id)) == data
                made.append((blob_id, data))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        shared.close()
    assert not errors, errors
    assert len(made) == 60
    views = client2.get_blobs([blob_id for blob_id, _ in made])
    assert [bytes(v) for v in views] == [data for _, data in made]


# -- tuples and lists: vineyard::Tuple and vineyard::Sequence ------------------------------------


def test_tuples_and_lists_round_trip_element_by_element(client, client2):
    np = pytest.importorskip("numpy")
    value = (np.arange(3), "x", 2.5, [b"raw", (7, True)], 42)
    oid = client.put(value)
    got = client2.get(oid)
    assert isinstance(got, tuple) and len(got) == 5
    assert got[0].tolist() == [0, 1, 2] and got[1:3] == ("x", 2.5) and got[4] == 42
    assert isinstance(got[3], list) and bytes(got[3][0]) == b"raw" and got[3][1] == (7, True)
    meta = client2.get_meta(oid)
    assert meta.typename == "vineyard::Tuple" and meta["size_"] == 5 and meta["__elements_-size"] == 5
    assert meta.member("__elements_-3").typename == "vineyard::Sequence"
    assert meta.member("__elements_-0").typename == "vineyard::Tensor<int64>"


def test_an_element_that_is_an_object_id_is_a_reference(client, client2):
    first = client.put("kept")
    oid = client.put((first, 3))
    assert client2.get(oid) == ("kept", 3)
    assert client2.get_meta(oid).member("__elements_-0").id == first


def test_vineyard_pythons_pair_reads_as_a_tuple(client, client2):
    """vineyard's Python client writes a 2-tuple as vineyard::Pair (first_, second_)."""
    pair = vj.ObjectMeta("vineyard::Pair")
    pair.add_member("first_", client.put(1))
    pair.add_member("second_", client.put("two"))
    assert client2.get(client.create_metadata(pair).id) == (1, "two")


def test_a_tuple_with_an_element_no_builder_takes_stores_nothing(client):
    before = client.instance_status()["memory_usage"]
    with pytest.raises(vj.VineyardTypeError, match="cannot put a"):
        client.put((b"x" * 4096, object()))
    assert client.instance_status()["memory_usage"] == before
