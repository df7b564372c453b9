"""numpy arrays as vineyard::Tensor<T>: dtypes, orders, metadata keys, zero-copy reads."""

import os

import pytest

np = pytest.importorskip("numpy")

import vineyard_java as vj  # noqa: E402
from helpers import address_in_regions  # noqa: E402

DTYPES = {
    "int32": "int",
    "int64": "int64",
    "uint32": "uint",
    "uint64": "uint64",
    "float32": "float",
    "float64": "double",
}


def _sample(dtype, shape=(4, 5)):
    count = int(np.prod(shape))
    return (np.arange(count) * 3 + 1).astype(dtype).reshape(shape)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
def test_tensor_round_trip(client, client2, dtype):
    value = _sample(dtype)
    oid = client.put(value)
    got = client2.get(oid)
    assert got.dtype == value.dtype
    assert got.shape == value.shape
    np.testing.assert_array_equal(got, value)
    assert not got.flags.writeable


@pytest.mark.parametrize("dtype", sorted(DTYPES))
def test_tensor_metadata_keys(client, dtype):
    value = _sample(dtype, (3, 7))
    meta = client.get_meta(client.put(value))
    assert meta.typename == "vineyard::Tensor<%s>" % DTYPES[dtype]
    assert meta["value_type_"] == np.dtype(dtype).name
    assert meta["value_type_meta_"] == np.dtype(dtype).str
    assert meta["shape_"] == "[3,7]"
    assert meta["partition_index_"] == "[]"
    assert meta["order_"] == '"C"'
    assert meta["nbytes"] == value.nbytes
    buffer = meta.member("buffer_")
    assert buffer.typename == "vineyard::Blob" and buffer.is_blob


def test_get_views_the_shared_memory(client, client2):
    value = _sample("float64", (50, 20))
    oid = client.put(value)
    got = client2.get(oid)
    assert address_in_regions(got.ctypes.data, got.nbytes, client2.mapped_regions(), writable=False)
    # two gets are two views of the same bytes, not two copies
    again = client2.get(oid)
    assert again.ctypes.data == got.ctypes.data


def test_fortran_order_round_trip_without_copy(client, client2):
    value = np.asfortranarray(_sample("float64", (6, 4)))
    assert value.flags.f_contiguous and not value.flags.c_contiguous
    oid = client.put(value)
    meta = client2.get_meta(oid)
    assert meta["order_"] == '"F"'
    got = client2.get(oid)
    np.testing.assert_array_equal(got, value)
    assert got.flags.f_contiguous
    assert address_in_regions(got.ctypes.data, got.nbytes, client2.mapped_regions(), writable=False)
    # the blob holds the column-major bytes
    blob = client2.get_blob(meta.member("buffer_").id)
    assert bytes(blob) == value.tobytes(order="F")


def test_non_contiguous_input_is_stored_c_ordered(client, client2):
    base = _sample("int64", (8, 8))
    value = base[::2, 1::3]
    assert not value.flags.c_contiguous and not value.flags.f_contiguous
    oid = client.put(value)
    assert client2.get_meta(oid)["order_"] == '"C"'
    np.testing.assert_array_equal(client2.get(oid), value)


@pytest.mark.parametrize(
    "value",
    [
        np.zeros((0, 3), dtype=np.float32),
        np.array(3.25),
        np.arange(7, dtype=np.int8),
        np.array([True, False, True]),
        np.array(["ab", "c", "def"]),
        np.arange(6, dtype=">i4").reshape(2, 3),
    ],
    ids=["empty", "zero-d", "int8", "bool", "unicode", "big-endian"],
)
def test_other_shapes_and_dtypes(client, client2, value):
    got = client2.get(client.put(value))
    assert got.shape == value.shape and got.dtype == value.dtype
    np.testing.assert_array_equal(got, value)


def test_string_objects_become_a_string_tensor(client, client2):
    value = np.array(["x", None, "yz", "日本"], dtype=object)
    oid = client.put(value)
    meta = client2.get_meta(oid)
    assert meta.typename == "vineyard::Tensor<std::string>"
    # C++ 0.24's type_name of LargeStringArray (the name its object factory knows)
    assert meta.member("buffer_").typename == "vineyard::BaseBinaryArray<arrow::LargeStringArray>"
    assert client2.get(oid).tolist() == ["x", None, "yz", "日本"]


def test_cpp_written_tensor_is_readable(client, client2):
    """A Tensor as C++ writes it: C++ spelling, AnyType value_type_, no value_type_meta_/order_."""
    values = np.array([10, 20, 30, 40], dtype=np.int64)
    writer = client.create_blob(values.nbytes)
    writer.copy(0, values.tobytes())
    meta = vj.ObjectMeta("vineyard::Tensor<long>")
    meta["value_type_"] = "int64"
    meta["shape_"] = [2, 2]
    meta["partition_index_"] = []
    meta["nbytes"] = values.nbytes
    meta.add_member("buffer_", writer)
    created = client.create_metadata(meta)
    np.testing.assert_array_equal(client2.get(created.id), values.reshape(2, 2))

    floats = np.array([1.5, 2.5], dtype=np.float32)
    writer = client.create_blob(floats.nbytes)
    writer.copy(0, floats.tobytes())
    meta = vj.ObjectMeta("vineyard::Tensor<float>", value_type_="float", shape_=[2])
    meta.add_member("buffer_", writer)
    got = client2.get(client.create_metadata(meta).id)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, floats)


def test_cpp_array_is_readable(client, client2):
    """vineyard::Array<double> as in the cpp_array_test transcript (size_, buffer_)."""
    values = np.arange(5, dtype=np.float64) / 4
    writer = client.create_blob(values.nbytes)
    writer.copy(0, values.tobytes())
    meta = vj.ObjectMeta("vineyard::Array<double>", size_=5, nbytes=values.nbytes)
    meta.add_member("buffer_", writer)
    got = client2.get(client.create_metadata(meta).id)
    np.testing.assert_array_equal(got, values)


def test_put_with_name_and_get_by_name(client, client2):
    value = _sample("uint32", (2, 2))
    name = "tensor-%d" % id(value)
    oid = client.put(value, name=name)
    assert client2.get_name(name) == oid
    np.testing.assert_array_equal(client2.get(name=name), value)
    client.drop_name(name)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_large_tensor_is_populated_and_copied_in_parallel_parts(client, client2, threads):
    # 40 MiB plus an odd tail: the parts end on page boundaries except the last
    value = np.arange((40 << 20) // 8 + 1001, dtype=np.int64)
    client.copy_threads = threads
    client.write_through = False  # through the mapping (the pwrite path is one call)
    oid = client.put(value)
    got = client2.get(oid)
    assert got.shape == value.shape
    assert np.array_equal(got, value)
    del got
    client.delete(oid)


def _writable_rss_kb(c):
    address = max((r for r in c._mmaps.regions() if r[2]), key=lambda r: r[1])[0]
    return _smaps_kb(address, "Rss")


@pytest.mark.parametrize("write_through", [True, False])
def test_a_large_put_goes_through_the_pools_fd_without_faulting_the_mapping(client, client2, write_through):
    # pwrite puts the bytes into the pool's pages without this process mapping them: its writable
    # mapping of the pool gains no resident pages; a copy through the mapping faults all 40 MiB in
    client.write_through = write_through
    client.delete(client.put(np.zeros(1 << 20, dtype=np.uint8)))  # the pool is mapped
    before = _writable_rss_kb(client)
    value = np.arange((40 << 20) // 8 + 3, dtype=np.int64)
    oid = client.put(value)
    grown = _writable_rss_kb(client) - before
    if write_through:
        assert grown < 1024
    else:
        assert grown >= 38 << 10  # 40 MiB, less the pages of the 1 MiB blob mapped before
    got = client2.get(oid)
    assert np.array_equal(got, value)
    del got
    client.delete(oid)


def test_a_put_whose_pwrite_fails_is_copied_through_the_mapping(client, client2, monkeypatch):
    import errno

    from vineyard_java import blob

    calls = []

    def refuse(fd, data, offset):
        calls.append(offset)
        if len(calls) == 1:
            return os.pwrite(fd, bytes(data[: 1 << 20]), offset)  # a part written, then a failure
        raise OSError(errno.EIO, "refused by the test")

    monkeypatch.setattr(blob.os, "pwrite", refuse)
    client.write_through = True
    value = np.arange((8 << 20) // 8, dtype=np.int64)
    oid = client.put(value)
    assert len(calls) == 2
    monkeypatch.undo()
    got = client2.get(oid)
    assert np.array_equal(got, value)
    del got
    client.delete(oid)


def test_copy_into_refuses_a_size_mismatch():
    from vineyard_java.blob import copy_into

    with pytest.raises(ValueError, match="copy of 5 bytes into a blob of 4"):
        copy_into(bytearray(4), b"12345", 2)


def test_resident_runs_tell_the_pages_a_file_holds_from_its_holes():
    import mmap
    import os

    from vineyard_java._buffer import buffer_address
    from vineyard_java.blob import resident_runs

    page = mmap.PAGESIZE
    fd = os.memfd_create("resident-runs-test")
    try:
        os.ftruncate(fd, 64 * page)
        os.pwrite(fd, b"x" * (8 * page), 16 * page)  # the file holds pages 16..23 only
        m = mmap.mmap(fd, 64 * page)
        try:
            runs = resident_runs(buffer_address(m), 64 * page)
            assert runs == [(0, 16 * page, False), (16 * page, 24 * page, True), (24 * page, 64 * page, False)]
        finally:
            m.close()
    finally:
        os.close(fd)


def test_a_tensor_put_into_pages_the_daemon_already_holds_reads_back_intact(client, client2):
    # the first put takes fresh pages, the second reuses them after a delete (the daemon's warm part
    # keeps them): populated by read faults, they must still be writable and hold the new values
    first = np.full((24 << 20) // 8, 7, dtype=np.int64)
    oid = client.put(first)
    client.delete(oid)
    second = np.arange((24 << 20) // 8, dtype=np.int64)
    oid = client.put(second)
    got = client2.get(oid)
    assert np.array_equal(got, second)
    del got
    client.delete(oid)


_THP_KNOB = "/sys/kernel/mm/transparent_hugepage/shmem_enabled"


def _smaps_kb(address, field):
    with open("/proc/self/smaps") as f:
        inside = False
        for line in f:
            head = line.split(None, 1)[0]
            if "-" in head and ":" not in head:
                low, high = (int(x, 16) for x in head.split("-"))
                inside = low <= address < high
            elif inside and line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for the mapping of %#x" % (field, address))


@pytest.mark.skipif(not os.access(_THP_KNOB, os.W_OK), reason="needs root and a kernel with transparent huge pages")
def test_with_shmem_huge_pages_on_request_a_fresh_tensor_is_mapped_in_huge_pages():
    from conftest import running_daemon

    with open(_THP_KNOB) as f:
        before = f.read().split("[")[1].split("]")[0]
    with open(_THP_KNOB, "w") as f:
        f.write("advise")
    try:
        with running_daemon(size="512Mi", flags=("--warm_memory=0",)) as d:
            with vj.connect(d.socket) as c:
                value = np.arange((64 << 20) // 8, dtype=np.int64)
                oid = c.put(value)
                address, _length, _writable = max(c._mmaps.regions(), key=lambda r: r[1])
                assert _smaps_kb(address, "ShmemPmdMapped") >= (64 << 10) // 2
                got = c.get(oid)
                assert np.array_equal(got, value)
                del got
                c.delete(oid)
    finally:
        with open(_THP_KNOB, "w") as f:
            f.write(before)
