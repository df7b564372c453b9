"""Streams with the Python client: in one process, between processes, and with the Java SDK.

The daemon's rules are vineyard's (docs/streams.md): chunks arrive in order and each is read once;
a second reader or writer is refused; an aborted or orphaned stream fails its reader after the
queued chunks; a dead reader drops the stream; stream memory never passes --stream_threshold.
"""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import vineyard_java as vj
from conftest import running_daemon, subprocess_env
from vineyard_java.stream import (
    ByteStream,
    DataframeStream,
    ParallelStream,
    RecordBatchStream,
    drop_stream,
    stream_params,
)

REPO = Path(__file__).resolve().parents[2]


def stream_stats(client):
    """The daemon's stream accounting (server_stats, an extension), or None without extensions."""
    if "server_stats_request" not in client.extensions:
        return None
    return client.server_stats()["streams"]


def java(*args, **kwargs):
    """The Java SDK's stream peer (io.vineyard.client.demo.StreamPeer) as a process."""
    return subprocess.Popen([str(REPO / "bin" / "java-client"), "io.vineyard.client.demo.StreamPeer", *args],
                            stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True, **kwargs)


def test_eleven_chunks_arrive_in_order_then_the_end(client):
    sid = ByteStream.create(client, {"kind": "test"})
    assert stream_params(client, sid) == {"kind": "test"}
    with ByteStream.open_writer(client, sid) as w, ByteStream.open_reader(client, sid) as r:
        for k in range(1, 12):
            w.next_chunk(2 ** k)[:] = bytes([k]) * 2 ** k
        w.finish()
        got = [bytes(c) for c in r]
    assert [len(c) for c in got] == [2 ** k for k in range(1, 12)]
    assert all(c == bytes([k]) * 2 ** k for k, c in zip(range(1, 12), got))


def test_a_second_reader_or_writer_gets_stream_opened_and_lines_span_chunks(client):
    sid = ByteStream.create(client)
    with ByteStream.open_writer(client, sid) as w, ByteStream.open_reader(client, sid) as r:
        with pytest.raises(vj.StreamOpened):
            ByteStream.open_reader(client, sid)
        with pytest.raises(vj.StreamOpened):
            ByteStream.open_writer(client, sid)
        w.write(b"a,b\n1,")
        w.write(b"2\n3,4")
        w.finish()
        assert list(r.lines()) == ["a,b", "1,2", "3,4"]


def test_an_aborted_stream_fails_its_reader_after_the_queued_chunks(client):
    sid = ByteStream.create(client)
    with ByteStream.open_writer(client, sid) as w, ByteStream.open_reader(client, sid) as r:
        w.write(b"abc")
        w.next_chunk(10)  # being written when the writer gives up: never read
        w.abort()
        assert bytes(r.next()) == b"abc"
        with pytest.raises(vj.StreamFailed):
            r.next()


def test_a_java_writer_streams_to_a_python_reader(daemon):
    with vj.connect(daemon.socket) as client:
        sid = ByteStream.create(client)
        writer = java("write", daemon.socket, str(sid), "11")
        with ByteStream.open_reader(client, sid) as r:
            sizes = [(len(c), c[0]) for c in r]
        assert writer.wait(120) == 0
        assert sizes == [(2 ** k, k) for k in range(1, 12)]


def test_a_python_writer_streams_to_a_java_reader(daemon):
    with vj.connect(daemon.socket) as client:
        sid = ByteStream.create(client)
        reader = java("read", daemon.socket, str(sid), "0")
        with ByteStream.open_writer(client, sid) as w:
            for k in range(1, 12):
                w.write(bytes([k]) * 2 ** k)
            w.finish()
        out, _ = reader.communicate(timeout=120)
        assert out.split("\n")[:12] == ["%d %d" % (2 ** k, k) for k in range(1, 12)] + ["end"]


def test_a_java_writer_killed_after_three_chunks_fails_the_python_reader_within_two_seconds(daemon):
    with vj.connect(daemon.socket) as client:
        before = client.instance_status()["memory_usage"]
        sid = ByteStream.create(client)
        writer = java("write-stall", daemon.socket, str(sid), "3")
        try:
            assert writer.stdout.readline().strip() == "wrote"
            with ByteStream.open_reader(client, sid) as r:
                assert [r.next()[0] for _ in range(3)] == [1, 2, 3]
                ended = {}

                def pull():
                    try:
                        r.next()
                        ended["status"] = "chunk"
                    except vj.StreamFailed:
                        ended["status"] = "failed"

                t = threading.Thread(target=pull)
                t.start()
                writer.kill()
                t.join(2.0)
                assert ended.get("status") == "failed"
        finally:
            writer.kill()
            writer.wait()
        assert client.instance_status()["memory_usage"] == before


def _python_reader_that_stalls(socket_path, sid):
    code = (
        "import sys, vineyard_java as vj\n"
        "from vineyard_java.stream import ByteStream\n"
        "c = vj.connect(sys.argv[1]); r = ByteStream.open_reader(c, int(sys.argv[2]))\n"
        "r.next(); print('pulled', flush=True); sys.stdin.readline()\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, socket_path, str(int(sid))],
                            stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True, env=subprocess_env())


def test_a_reader_killed_mid_stream_makes_the_writer_fail_and_frees_everything(daemon):
    with vj.connect(daemon.socket) as client:
        before = client.instance_status()["memory_usage"]
        sid = ByteStream.create(client)
        reader = _python_reader_that_stalls(daemon.socket, sid)
        try:
            with ByteStream.open_writer(client, sid) as w:
                for _ in range(3):
                    w.write(bytes(4096))
                assert reader.stdout.readline().strip() == "pulled"
                reader.send_signal(signal.SIGKILL)
                reader.wait()
                with pytest.raises(vj.InvalidStreamState):
                    for _ in range(1000):  # the daemon notices the death at once; a racing write may pass
                        w.write(bytes(4096))
                        client.instance_status()
        finally:
            reader.kill()
        assert client.instance_status()["memory_usage"] == before
        stats = stream_stats(client)
        assert stats is None or stats["bytes"] == 0


def test_stream_memory_never_passes_the_threshold_and_a_writer_may_bound_its_wait():
    with running_daemon(size="64Mi") as d, vj.connect(d.socket) as client:
        if stream_stats(client) is None:
            pytest.skip("the daemon's stream accounting is reported by server_stats, an extension")
        threshold = stream_stats(client)["threshold_bytes"]
        sid = ByteStream.create(client)
        chunk = 1 << 20
        n = 256  # 256 MiB through a 64 MiB pool
        with ByteStream.open_reader(client, sid) as r:
            def produce():
                with ByteStream.open_writer(client, sid) as w:
                    for k in range(n):
                        w.next_chunk(chunk)[0] = k % 256
                    w.finish()

            t = threading.Thread(target=produce)
            t.start()
            seen = 0
            for c in r:
                assert c[0] == seen % 256
                seen += 1
            t.join(60)
        assert seen == n
        stats = stream_stats(client)
        assert stats["peak_bytes"] <= threshold < n * chunk
        sid2 = ByteStream.create(client)
        with ByteStream.open_writer(client, sid2, wait_limit=0.1) as w:
            for _ in range(threshold // chunk):
                w.next_chunk(chunk)
            with pytest.raises(vj.NotEnoughMemory):
                w.next_chunk(chunk)
        drop_stream(client, sid2)
        assert stream_stats(client)["bytes"] == 0


def test_record_batches_read_as_a_pyarrow_record_batch_reader(client):
    pa = pytest.importorskip("pyarrow")
    sid = RecordBatchStream.create(client)
    batches = [pa.record_batch({"id": pa.array(range(k * 100, k * 100 + 100), pa.int64()),
                                "x": pa.array([float(i) for i in range(100)])}) for k in range(4)]
    with RecordBatchStream.open_writer(client, sid) as w, RecordBatchStream.open_reader(client, sid) as r:
        for b in batches:
            w.write(b)
        w.finish()
        reader = r.to_reader()
        assert isinstance(reader, pa.RecordBatchReader)
        table = reader.read_all()
    assert table.num_rows == 400
    assert table.column("id").to_pylist() == list(range(400))


def test_dataframes_through_a_dataframe_stream(client):
    pd = pytest.importorskip("pandas")
    sid = DataframeStream.create(client)
    with DataframeStream.open_writer(client, sid) as w, DataframeStream.open_reader(client, sid) as r:
        for k in range(3):
            w.write(pd.DataFrame({"a": [k, k + 1]}))
        w.finish()
        assert [int(df["a"].iloc[0]) for df in r] == [0, 1, 2]


def test_a_parallel_stream_names_its_member_streams(client):
    parts = [ByteStream.create(client), ByteStream.create(client)]
    pid = ParallelStream.create(client, parts)
    assert ParallelStream.streams(client, pid) == parts
    assert client.get_meta(pid).typename == "vineyard::ParallelStream"


DOC = REPO / "docs" / "streams.md"


def test_the_python_examples_of_docs_streams_run(daemon):
    pytest.importorskip("pyarrow")
    import re

    examples = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert examples
    for i, code in enumerate(examples):
        code = code.replace('"/path/to/vineyard.sock"', repr(daemon.socket))
        exec(compile(code, "docs/streams.md example %d" % (i + 1), "exec"), {"__name__": "doc_example"})
