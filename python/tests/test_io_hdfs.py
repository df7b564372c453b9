"""vineyard_java.io on hdfs:// against a real HDFS: Hadoop's MiniDFSCluster (a NameNode and a DataNode,
the Java tests' ``HdfsServer``) started by ``bin/hdfs-minicluster`` on loopback for this module and
stopped by its PID, reached over WebHDFS (fsspec). The fixtures are put and checked with fsspec's WebHDFS
client directly; the Java side (``vineyardctl``, Hadoop's RPC client) reads what Python wrote and
writes what Python reads."""

import getpass
import os
import re
import socket
import subprocess
import time

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("fsspec")
pytest.importorskip("requests")
import pyarrow.csv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from fsspec.implementations.webhdfs import WebHDFS  # noqa: E402

from conftest import EXTRA_FLAGS, REPO_DIR  # noqa: E402
from helpers import stop_process  # noqa: E402
from vineyard_java import io as vio  # noqa: E402

# HDFS is reached by fsspec and by Hadoop's client, the same whatever the daemon's protocol; the
# --noextensions run covers the I/O drivers' standard-protocol path with local files (test_io.py)
pytestmark = pytest.mark.skipif("--noextensions" in EXTRA_FLAGS, reason="HDFS transport: the default-flags run checks it")

CSV = "id,name,score\n" + "".join("%d,n%d,%s\n" % (i, i, "" if i % 7 == 0 else i * 0.5) for i in range(1000))


@pytest.fixture(scope="module")
def hdfs(tmp_path_factory):
    """``{"rpc": "hdfs://127.0.0.1:PORT", "http_port": N, "fs": WebHDFS}`` of a minicluster of this module."""
    base = tmp_path_factory.mktemp("hdfs")
    log = open(base / "minicluster.log", "wb")
    proc = subprocess.Popen([str(REPO_DIR / "bin" / "hdfs-minicluster"), str(base)], stdout=log, stderr=subprocess.STDOUT)
    ready = base / "namenode.uri"
    try:
        deadline = time.monotonic() + 300  # a first run may build vineyard-io's test classes
        while not ready.exists():
            assert proc.poll() is None, "the minicluster exited: " + (base / "minicluster.log").read_text()[-4000:]
            assert time.monotonic() < deadline, "the minicluster was not up within 300 s"
            try:
                proc.wait(0.1)
            except subprocess.TimeoutExpired:
                pass
        rpc, http = ready.read_text().split()[:2]
        port = int(http.rsplit(":", 1)[1])
        yield {"rpc": rpc, "http_port": port, "options": {"webhdfs_port": port},
               "fs": WebHDFS("127.0.0.1", port=port, user=getpass.getuser())}
    finally:
        stop_process(proc, 30)
        log.close()


def _put(hdfs, path, data):
    hdfs["fs"].makedirs(os.path.dirname(path), exist_ok=True)
    with hdfs["fs"].open(path, "wb") as f:
        f.write(data)


def _names(hdfs, path):
    return sorted(os.path.basename(p.rstrip("/")) for p in hdfs["fs"].ls(path))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_files_on_hdfs_read_as_their_local_copies_and_write_back(client, hdfs, tmp_path):
    local = tmp_path / "t.csv"
    local.write_text(CSV)
    _put(hdfs, "/data/t.csv", CSV.encode())
    expected = pa.csv.read_csv(str(local))
    table = client.get(vio.read(client, hdfs["rpc"] + "/data/t.csv", storage_options=hdfs["options"]))
    assert table.equals(expected)
    # webhdfs://HOST:HTTP_PORT names the HTTP port itself
    again = client.get(vio.read(client, "webhdfs://127.0.0.1:%d/data/t.csv" % hdfs["http_port"]))
    assert again.equals(expected)
    oid = vio.read(client, str(local))
    for name in ("out.parquet", "out.orc", "out.csv"):
        vio.write(client, oid, hdfs["rpc"] + "/written/" + name, storage_options=hdfs["options"])
        assert [n for n in _names(hdfs, "/written") if n == name or n.startswith(".")] == [name], "no temporary left"
        copy = tmp_path / ("copy-" + name)
        copy.write_bytes(hdfs["fs"].cat("/written/" + name))
        assert client.get(vio.read(client, str(copy))).equals(expected), name
        back = client.get(vio.read(client, hdfs["rpc"] + "/written/" + name, storage_options=hdfs["options"]))
        assert back.equals(expected), name + " read from HDFS"
    # a second write replaces the file
    vio.write(client, vio.read(client, str(local), schema="id"), hdfs["rpc"] + "/written/out.parquet",
              storage_options=hdfs["options"])
    assert pq.read_table(pa.BufferReader(hdfs["fs"].cat("/written/out.parquet"))).column_names == ["id"]


def test_serialize_to_hdfs_and_deserialize_back(client, hdfs):
    _put(hdfs, "/data/s.csv", CSV.encode())
    oid = vio.read(client, hdfs["rpc"] + "/data/s.csv", storage_options=hdfs["options"])
    target = hdfs["rpc"] + "/backup/s"
    vio.serialize(client, oid, target, storage_options=hdfs["options"])
    assert hdfs["fs"].isfile("/backup/s/1-0/metadata.json"), "vineyard's layout on HDFS"
    assert _names(hdfs, "/backup") == ["s"], "the hidden staging directory was renamed"
    again = vio.deserialize(client, target, storage_options=hdfs["options"])
    assert client.get(again).equals(client.get(oid))
    with pytest.raises(vio.IoError, match="not an empty directory"):
        vio.serialize(client, oid, target, storage_options=hdfs["options"])


def test_a_directory_and_a_glob_on_hdfs(client, hdfs):
    _put(hdfs, "/parts/a.csv", b"x,y\n1,2\n3,4\n")
    _put(hdfs, "/parts/b.csv", b"x,y\n5,6\n")
    _put(hdfs, "/parts/_SUCCESS", b"")
    oid = vio.read(client, hdfs["rpc"] + "/parts", chunks="file", storage_options=hdfs["options"])
    meta = client.get_meta(oid)
    chunks = [meta.member("partitions_-%d" % i).id for i in range(int(meta["partitions_-size"]))]
    assert [client.get(c).to_pydict() for c in chunks] == [{"x": [1, 3], "y": [2, 4]}, {"x": [5], "y": [6]}]
    assert client.get(vio.read(client, hdfs["rpc"] + "/parts/b*.csv", storage_options=hdfs["options"])).num_rows == 1


def test_hdfs_failures_are_typed_and_leave_nothing(client, hdfs):
    table = client.put(pa.table({"x": [1, 2]}))
    before = client.list_objects("*", limit=100)
    with pytest.raises(vio.NotFound) as e:
        vio.read(client, hdfs["rpc"] + "/data/none.csv", storage_options=hdfs["options"])
    assert "/data/none.csv" in str(e.value)
    with pytest.raises(vio.NotFound):
        vio.deserialize(client, hdfs["rpc"] + "/no/backup", storage_options=hdfs["options"])
    with pytest.raises(vio.Unreachable):
        vio.read(client, "hdfs://127.0.0.1:1/data/t.csv", storage_options={"webhdfs_port": _free_port()})
    _put(hdfs, "/data/bad.parquet", b"PAR1 not really parquet")
    with pytest.raises(vio.Malformed) as m:
        vio.read(client, hdfs["rpc"] + "/data/bad.parquet", storage_options=hdfs["options"])
    assert m.value.position == "footer" and str(m.value).startswith(hdfs["rpc"] + "/data/bad.parquet")
    with pytest.raises(vio.AccessDenied):  # / belongs to the minicluster's user; permissions are on
        vio.serialize(client, table, hdfs["rpc"] + "/denied/backup",
                      storage_options=dict(hdfs["options"], user="nobody"))
    with pytest.raises(vio.Unsupported, match="Java client only"):
        vio.read(client, hdfs["rpc"] + "/data/t.csv", storage_options={"dfs.replication": "1"})
    assert client.list_objects("*", limit=100) == before
    assert not hdfs["fs"].exists("/denied"), "nothing made on HDFS"


def _ctl(client, *args):
    done = subprocess.run([str(REPO_DIR / "bin" / "vineyardctl"), "--socket", client.ipc_socket, *args],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, "vineyardctl %s: %s %s" % (args, done.stdout, done.stderr)
    return done.stdout.strip()


def test_java_and_python_read_what_the_other_wrote_on_hdfs(client, hdfs, tmp_path):
    local = tmp_path / "j.csv"
    local.write_text(CSV)
    expected = pa.csv.read_csv(str(local))
    # Python writes Parquet and serializes; Java (Hadoop's RPC client) reads both back
    oid = vio.read(client, str(local))
    vio.write(client, oid, hdfs["rpc"] + "/cross/py.parquet", storage_options=hdfs["options"])
    vio.serialize(client, oid, hdfs["rpc"] + "/cross/py-backup", storage_options=hdfs["options"])
    from_java = _ctl(client, "read", hdfs["rpc"] + "/cross/py.parquet")
    assert client.get(from_java).equals(expected)
    assert client.get(_ctl(client, "deserialize", hdfs["rpc"] + "/cross/py-backup")).equals(expected)
    # Java writes ORC and serializes; Python reads both back
    _ctl(client, "write", str(oid), hdfs["rpc"] + "/cross/java.orc")
    _ctl(client, "serialize", str(oid), hdfs["rpc"] + "/cross/java-backup")
    assert client.get(vio.read(client, hdfs["rpc"] + "/cross/java.orc", storage_options=hdfs["options"])).equals(expected)
    assert client.get(vio.deserialize(client, hdfs["rpc"] + "/cross/java-backup", storage_options=hdfs["options"])).equals(expected)


def test_the_docs_python_hdfs_example(hdfs, vineyard_socket):
    """docs/io.md's ```python hdfs block, against this module's minicluster."""
    doc = (REPO_DIR / "docs" / "io.md").read_text()
    (example,) = re.findall(r"```python hdfs\n(.*?)```", doc, flags=re.S)
    _put(hdfs, "/data/trips.csv", b"id,fare\n1,9.5\n2,12.25\n")
    code = (example.replace('"/path/to/vineyard.sock"', repr(vineyard_socket))
            .replace("hdfs://namenode:8020", hdfs["rpc"]).replace("webhdfs://namenode:", "webhdfs://127.0.0.1:")
            .replace("9870", str(hdfs["http_port"])))
    exec(compile(code, "io.md python hdfs example", "exec"), {"__name__": "doc_example"})
    assert hdfs["fs"].isfile("/backup/trips/1-0/metadata.json") and hdfs["fs"].isfile("/data/trips.parquet")
