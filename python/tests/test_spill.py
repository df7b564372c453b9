"""Spilling from Python: a pool too small for the data spills the least recently used blobs to
``--spill_path`` and a get reloads them; evict/load/pin/unpin and is_spilled/is_in_use reply."""

import os

import pytest

import vineyard_java as vj
from conftest import running_daemon


@pytest.fixture
def spill_daemon(tmp_path):
    spill = tmp_path / "spill"
    with running_daemon(size="1Mi", flags=["--spill_path=%s" % spill]) as d:
        yield d, spill
    assert not [p for p in os.listdir(spill) if p.endswith(".spill")], "no spill file outlives the daemon"


def _spill_files(spill):
    return [p for p in os.listdir(spill) if p.endswith(".spill")]


def test_more_data_than_the_pool_spills_and_reads_back(spill_daemon):
    d, spill = spill_daemon
    with vj.connect(d.socket) as c:
        ids = [c.put(bytes([i]) * (100 << 10)) for i in range(30)]  # 3 MB into a 1 MiB pool
        assert any(c.is_spilled(i) for i in ids)
        assert _spill_files(spill)
        for i, oid in enumerate(ids):
            assert c.get(oid) == bytes([i]) * (100 << 10)
        c.delete(ids)
        assert not _spill_files(spill), "deleting spilled objects deletes their files"
        assert c.instance_status()["memory_usage"] == 0


def test_evict_load_pin_unpin(spill_daemon):
    d, spill = spill_daemon
    with vj.connect(d.socket) as c:
        oid = c.put(b"x" * 4096)
        assert not c.is_in_use(oid)
        assert c.evict(oid) == 1
        assert c.is_spilled(oid) and len(_spill_files(spill)) == 1
        c.load(oid, pin=True)
        assert not c.is_spilled(oid) and c.is_in_use(oid)
        with pytest.raises(vj.VineyardError, match="pinned"):
            c.evict(oid)
        c.unpin(oid)
        assert not c.is_in_use(oid)
        assert c.evict([oid]) == 1
        assert c.get(oid) == b"x" * 4096, "a get reloads it"
        c.delete(oid)
