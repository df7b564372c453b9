"""Disk blobs (``create_disk_buffer``) and the mapping table's life cycle: a disk file is
mapped whole and only while viewed; a new fd for a known store key replaces the old one."""

import gc
import mmap
import os

import pytest

import vineyard_java as vj
from vineyard_java.blob import MmapTable, Payload
from vineyard_java.protocol import Connection


def _disk_regions(client, size):
    return [r for r in client.mapped_regions() if r[1] == size]


def test_disk_blob_made_by_another_client_is_read_whole(vineyard_socket, client2):
    """A disk blob's map_size is its file's size: all of it is data (no 8-byte pool gap)."""
    size = 4096
    data = bytes(range(256)) * (size // 256)
    raw = Connection(vineyard_socket)
    try:
        raw.register()
        with raw.lock:
            reply = raw.request(
                {"type": "create_disk_buffer_request", "size": size, "path": ""},
                expect="create_disk_buffer_reply",
            )
            assert reply["fd"] != -1
            fd = raw.recv_fd()
        try:
            with mmap.mmap(fd, size) as mm:
                mm[:] = data
        finally:
            os.close(fd)
        raw.request({"type": "seal_request", "object_id": reply["id"]}, expect="seal_reply")

        view = client2.get_blob(vj.ObjectID(reply["id"]))
        assert len(view) == size
        assert bytes(view) == data
    finally:
        raw.close()


def test_create_disk_blob_writes_the_named_file(client, client2, tmp_path):
    path = tmp_path / "blob.bin"
    data = b"disk-blob " * 1000
    writer = client.create_disk_blob(len(data), path=str(path))
    assert writer.payload.is_disk
    writer.copy(0, data)
    blob_id = writer.seal()
    assert path.read_bytes() == data  # the bytes are the file's, not a copy
    assert bytes(client2.get_blob(blob_id)) == data
    assert bytes(client.get_blob(blob_id)) == data

    with pytest.raises(ValueError):
        client.create_disk_blob(0)


def test_disk_mapping_lives_only_while_a_view_does(client, client2):
    np = pytest.importorskip("numpy")
    size = 3 * 4096 + 24  # a size no pool mapping has
    writer = client.create_disk_blob(size)
    writer.copy(0, bytes([7]) * size)
    blob_id = writer.seal()
    del writer
    gc.collect()
    assert _disk_regions(client, size) == []  # the writer's read-write mapping went with it

    view = client2.get_blob(blob_id)
    array = np.frombuffer(view, dtype=np.uint8)[8:]
    del view
    gc.collect()
    assert len(_disk_regions(client2, size)) == 1  # the array still uses the mapping
    assert int(array[0]) == 7
    del array
    gc.collect()
    assert _disk_regions(client2, size) == []

    # the fd is kept (the daemon sends it once per connection): the blob maps again
    assert bytes(client2.get_blob(blob_id)) == bytes([7]) * size


def _memfd(name, length, fill):
    fd = os.memfd_create(name)
    os.ftruncate(fd, length)
    os.pwrite(fd, fill * 16, 0)
    return fd


def _same_file(fd, stat):
    try:
        now = os.fstat(fd)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (stat.st_dev, stat.st_ino)


@pytest.mark.parametrize("kind", ["pool", "disk"])
def test_new_fd_for_a_known_store_key_replaces_the_old_one(kind):
    """Another file behind the same daemon fd number: close the old fd, map the new file,
    and unmap the old mapping once its last view is gone."""
    length = 4096 + 8 if kind == "pool" else 16
    size = 16
    payload = Payload({"object_id": 0x8000000000000001, "store_fd": 7, "data_offset": 0,
                       "data_size": size, "map_size": length})
    assert payload.is_disk == (kind == "disk")
    old_fd, new_fd = _memfd("old", length, b"A"), _memfd("new", length, b"B")
    old_stat = os.fstat(old_fd)
    table = MmapTable()
    try:
        table.add_fd(7, old_fd)
        old_view = table.view(payload)
        old_mapping = table._maps[(7, False)]
        assert bytes(old_view) == b"A" * size

        table.add_fd(7, new_fd)
        assert not _same_file(old_fd, old_stat)  # closed
        new_view = table.view(payload)
        assert bytes(new_view) == b"B" * size
        assert bytes(old_view) == b"A" * size  # still mapped for the view that uses it
        assert not old_mapping.mm.closed

        del old_view
        gc.collect()
        table.collect()
        assert old_mapping.mm.closed
        assert bytes(new_view) == b"B" * size
    finally:
        table.close()
