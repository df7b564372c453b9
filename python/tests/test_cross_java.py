"""Java <-> Python on one daemon: the same objects, no copies.

A Java process (the Java SDK, ``io.vineyard.client.demo.CrossLanguage``) puts a 100-million-element
``Tensor<double>`` and a DataFrame; this process gets them and checks values and that the arrays lie
inside its mapping of the pool. Then the reverse: Python puts, a Java process gets and checks (it
exits non-zero on any mismatch or copy). A torch tensor over the Java-put tensor shares its memory.
The same both ways for Arrow lists, binaries and fixed-size types (``io.vineyard.arrow.demo.ArrowCrossLanguage``).
"""

import os
import subprocess
import warnings
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")

import vineyard_java as vj  # noqa: E402
from conftest import Daemon  # noqa: E402
from helpers import address_in_regions  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

N = 100_000_000
ROWS = 1000


def java(*args):
    """Runs the Java half; its output is returned, a failure fails the test with its stderr."""
    cmd = [str(REPO / "bin" / "java-client"), "io.vineyard.client.demo.CrossLanguage", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, "java %s failed (%d): %s %s" % (args[0], done.returncode, done.stdout, done.stderr)
    return done.stdout


@pytest.fixture(scope="module")
def big_daemon():
    """A daemon with room for two 800 MB tensors (one from each side)."""
    d = Daemon(size="3Gi").start()
    try:
        yield d
    finally:
        d.stop()


def test_java_puts_python_gets_without_copies(big_daemon):
    assert java("put", big_daemon.socket, str(N)).strip().endswith("put ok")
    with vj.connect(big_daemon.socket) as client:
        tensor = client.get(name="java-tensor")
        assert tensor.dtype == np.float64 and tensor.shape == (N,)
        assert address_in_regions(tensor.ctypes.data, tensor.nbytes, client.mapped_regions())
        expected = np.arange(N, dtype=np.float64) * 0.5
        assert np.array_equal(tensor, expected)
        del expected

        frame = client.get(name="java-frame")
        assert list(frame.columns) == ["a", "b"]
        assert np.array_equal(frame["a"].to_numpy(), np.arange(ROWS, dtype=np.int64))
        assert np.array_equal(frame["b"].to_numpy(), np.arange(ROWS) * 0.25)
        b = frame["b"].to_numpy()
        assert address_in_regions(b.ctypes.data, b.nbytes, client.mapped_regions()), "column b was copied"

        torch = pytest.importorskip("torch")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # read-only mapping: torch warns, shares anyway
            t = torch.from_numpy(tensor)
        assert t.data_ptr() == tensor.ctypes.data
        assert float(t[N - 1]) == (N - 1) * 0.5


def test_python_puts_java_gets_without_copies(big_daemon):
    with vj.connect(big_daemon.socket) as client:
        client.put(np.arange(N, dtype=np.float64) * 0.25, name="py-tensor")
        client.put(pd.DataFrame({"x": np.arange(ROWS, dtype=np.int64) * 3, "y": np.arange(ROWS) / 8.0}), name="py-frame")
    assert java("check", big_daemon.socket, str(N)).strip().endswith("check ok")


def test_java_reports_a_missing_object(big_daemon):
    cmd = [str(REPO / "bin" / "java-client"), "io.vineyard.client.demo.CrossLanguage", "check",
           big_daemon.socket + ".missing", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "cannot connect" in done.stderr


# -- Arrow lists, binaries and fixed-size types both ways (io.vineyard.arrow.demo.ArrowCrossLanguage) --

NESTED_ROWS = 1000   # ArrowCrossLanguage.ROWS


def _nested_batch():
    """The batch ArrowCrossLanguage builds and checks (its javadoc gives the rule of each column)."""
    pa = pytest.importorskip("pyarrow")
    rows = range(NESTED_ROWS)
    lists = [None if i % 5 == 4 else [10 * i + k for k in range(i % 3)] for i in rows]
    return pa.record_batch(
        {
            "list": pa.array(lists, pa.list_(pa.int64())),
            "large_list": pa.array([[("r%d" % i).encode()] for i in rows], pa.large_list(pa.large_binary())),
            "pair": pa.array([[i / 2, float(-i)] for i in rows], pa.list_(pa.float64(), 2)),
            "bytes": pa.array([None if i % 4 == 1 else ("b%d" % i).encode() for i in rows], pa.binary()),
            "code": pa.array([("c%02d" % (i % 100)).encode() for i in rows], pa.binary(3)),
        }
    )


def _arrow_java(mode, socket):
    cmd = [str(REPO / "bin" / "java-client"), "io.vineyard.arrow.demo.ArrowCrossLanguage", mode, socket]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, "java %s failed (%d): %s %s" % (mode, done.returncode, done.stdout, done.stderr)
    return done.stdout


def test_java_puts_lists_and_binaries_python_reads_them_in_place(big_daemon):
    expected = _nested_batch()
    assert _arrow_java("put", big_daemon.socket).strip().endswith("put ok")
    with vj.connect(big_daemon.socket) as client:
        got = client.get(name="java-nested")
        assert got.num_rows == NESTED_ROWS
        for name in expected.schema.names:
            assert got.column(name).to_pylist() == expected.column(name).to_pylist(), name
            # the same types, but for the item field's name (Arrow Java's "$data$", pyarrow's "item")
            assert got.schema.field(name).type.num_fields == expected.schema.field(name).type.num_fields
        assert got.schema.field("pair").type.list_size == 2
        values = got.column("list").values.buffers()[1]
        assert address_in_regions(values.address, values.size, client.mapped_regions()), "list values were copied"
        data = got.column("bytes").buffers()[2]
        assert address_in_regions(data.address, data.size, client.mapped_regions()), "binary data was copied"


def test_python_puts_lists_and_binaries_java_reads_them_in_place(big_daemon):
    with vj.connect(big_daemon.socket) as client:
        client.put(_nested_batch(), name="py-nested")
    assert _arrow_java("check", big_daemon.socket).strip().endswith("check ok")


def test_tuples_and_sequences_both_ways(big_daemon):
    with vj.connect(big_daemon.socket) as client:
        client.put((np.arange(3), "x", 2.5, [b"raw", (7, True)]), name="py-tuple")
        assert java("tuples", big_daemon.socket, "0").strip().endswith("tuples ok")
        got = client.get(name="java-seq")
        assert isinstance(got, list) and len(got) == 3
        assert got[0].tolist() == [0.5, 1.5] and got[1] == "y" and got[2] == (7, True)
        # vineyard::Hashmap (ska's flat_hash_map, laid out as vineyard's C++ builder lays it) reads as a dict
        assert client.get(name="java-map") == {7 * i: i * i for i in range(1000)}
        assert client.get(name="java-map-f") == {i: i / 4 for i in range(100)}
