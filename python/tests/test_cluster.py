"""Daemons sharing metadata through a real etcd (``--meta=etcd``): names and metadata across
instances, ``get(..., fetch=True)`` / ``migrate``, ``cluster_meta``, and a global DataFrame whose
chunks were put on three daemons."""

import os
import shutil
import socket
import subprocess
import tempfile
import uuid

import numpy as np
import pytest

import vineyard_java as vj
from conftest import running_daemon
from helpers import wait_until

pd = pytest.importorskip("pandas")

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
pytestmark = pytest.mark.skipif(not os.path.exists(ETCD), reason="etcd-server is not installed (bin/test installs it)")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def etcd():
    """A real etcd on free loopback ports, its data on /dev/shm; stopped by PID."""
    data = tempfile.mkdtemp(prefix="vineyard-etcd-", dir="/dev/shm")
    client, peer = _free_port(), _free_port()
    endpoint, peer_url = "http://127.0.0.1:%d" % client, "http://127.0.0.1:%d" % peer
    log = open(os.path.join(data, "etcd.log"), "w")
    proc = subprocess.Popen(
        [ETCD, "--name", "n0", "--data-dir", os.path.join(data, "d"), "--listen-client-urls", endpoint,
         "--advertise-client-urls", endpoint, "--listen-peer-urls", peer_url,
         "--initial-advertise-peer-urls", peer_url, "--initial-cluster", "n0=" + peer_url,
         "--logger", "zap", "--log-outputs", "stderr"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: "serving client traffic" in open(log.name).read(), timeout=30), open(log.name).read()
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(data, ignore_errors=True)


def _cluster_flags(etcd, prefix):
    return ["--meta=etcd", "--etcd_endpoint=" + etcd, "--etcd_prefix=" + prefix, "--etcd_lease_ttl=3",
            "--rpc", "--rpc_socket_port=0"]


def test_objects_names_and_fetch_across_two_instances(etcd):
    flags = _cluster_flags(etcd, "py-" + uuid.uuid4().hex[:8])
    with running_daemon(flags=flags) as a, running_daemon(flags=flags) as b:
        with vj.connect(a.socket) as ca, vj.connect(b.socket) as cb:
            assert ca.instance_id != cb.instance_id
            frame = pd.DataFrame({"x": np.arange(1000, dtype=np.int64), "y": np.linspace(0, 1, 1000)})
            oid = ca.put(frame, name="py-frame")
            assert cb.get_name("py-frame", wait=True, timeout=5) == oid
            assert cb.get_meta(oid).instance_id == ca.instance_id
            instances = cb.cluster_meta()
            assert {"i%d" % ca.instance_id, "i%d" % cb.instance_id} <= set(instances), instances

            got = cb.get(oid, fetch=True)
            pd.testing.assert_frame_equal(got, frame)
            copy = cb.migrate(oid)
            assert copy != oid and cb.get_meta(copy).instance_id == cb.instance_id
            assert cb.get_meta(copy).signature == ca.get_meta(oid).signature
            assert cb.migrate(oid) == copy, "the copy is found again, nothing transferred twice"
            assert ca.migrate(oid) == oid, "a local object migrates to itself"
            pd.testing.assert_frame_equal(cb.get(name="py-frame", fetch=True), frame)


def test_a_global_dataframe_of_chunks_on_three_instances(etcd):
    flags = _cluster_flags(etcd, "py-" + uuid.uuid4().hex[:8])
    with running_daemon(flags=flags) as d0, running_daemon(flags=flags) as d1, running_daemon(flags=flags) as d2:
        daemons = [d0, d1, d2]
        frames, chunks, instances = [], [], []
        for i, d in enumerate(daemons):
            with vj.connect(d.socket) as c:
                instances.append(c.instance_id)
                frames.append(pd.DataFrame({"part": np.full(10, i, dtype=np.int64), "v": np.arange(10) * (i + 1.0)}))
                chunks.append(c.put(frames[-1], persist=True))
        with vj.connect(d0.socket) as c0:
            assert wait_until(lambda: all(c0.exists(ch) for ch in chunks), timeout=5)
            gid = c0.put_global(chunks, name="py-global")
        for i, d in enumerate(daemons):
            with vj.connect(d.socket) as c:
                assert c.get_name("py-global", wait=True, timeout=5) == gid
                g = c.get(gid)
                assert len(g) == 3 and [m.id for m in g.chunks] == chunks
                assert [m.typename for m in g.chunks] == ["vineyard::DataFrame"] * 3
                assert [m.instance_id for m in g.chunks] == instances, "every chunk's metadata, wherever it lives"
                local = g.local_chunks()
                assert len(local) == 1
                pd.testing.assert_frame_equal(local[0], frames[i])


DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "docs", "cluster.md")


def test_the_python_example_of_docs_cluster_md_runs(etcd):
    import re

    blocks = re.findall(r"```python\n(.*?)```", open(DOC).read(), flags=re.S)
    assert len(blocks) == 1
    flags = _cluster_flags(etcd, "py-" + uuid.uuid4().hex[:8])
    with running_daemon(flags=flags) as a, running_daemon(flags=flags) as b:
        code = blocks[0].replace('"/tmp/vineyard-a.sock"', repr(a.socket)).replace('"/tmp/vineyard-b.sock"', repr(b.socket))
        exec(compile(code, "docs/cluster.md python example", "exec"), {"__name__": "doc_example"})
