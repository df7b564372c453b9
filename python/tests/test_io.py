"""vineyard_java.io: read/write/serialize/deserialize with vineyard's names, options and layout."""

import hashlib
import json
import os

import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.csv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import vineyard_java as vj  # noqa: E402
from vineyard_java import io as vio  # noqa: E402
from helpers import settled_usage  # noqa: E402


def _csv(path, delimiter=",", header=True, rows=1000):
    with open(path, "w") as f:
        if header:
            f.write(delimiter.join(["id", "score", "name"]) + "\n")
        for i in range(rows):
            score = "" if i % 7 == 0 else str(i * 0.5)
            f.write(delimiter.join([str(i * 3), score, "name-%d" % i]) + "\n")
    return str(path)


def test_csv_reads_into_a_table_that_client_get_returns_with_the_files_values(client, tmp_path):
    path = _csv(tmp_path / "data.csv")
    oid = vio.read(client, path)
    assert isinstance(oid, vj.ObjectID)
    assert client.get_meta(oid).typename == "vineyard::Table"
    table = client.get(oid)
    assert isinstance(table, pa.Table)
    assert table.equals(pa.csv.read_csv(path))
    frame = table.to_pandas()
    assert frame["id"].iloc[7] == 21 and frame["name"].iloc[8] == "name-8"
    assert frame["score"].isna().iloc[7]


def test_vineyards_csv_options(client, tmp_path):
    path = _csv(tmp_path / "data.txt", delimiter="|", header=False)
    table = client.get(vio.read(client, path, format="csv", delimiter="|", header_row=False,
                                schema="2,f0", column_types="string,int32"))
    assert table.column_names == ["f2", "f0"]
    assert table.schema.field("f0").type == pa.int32()
    assert table.column("f0")[3].as_py() == 9 and table.column("f2")[3].as_py() == "name-3"
    # the fragment form of vineyard's C++ adaptors, and include_all_columns
    table = client.get(vio.read(client, path + "#format=csv&delimiter=|&header_row=false&schema=f1&include_all_columns=true"))
    assert table.column_names == ["f1", "f0", "f2"]


@pytest.mark.parametrize("ext", ["parquet", "orc", "csv"])
def test_write_and_read_back(client, tmp_path, ext):
    source = vio.read(client, _csv(tmp_path / "data.csv"))
    expected = client.get(source)
    out = str(tmp_path / "sub" / ("out." + ext))
    vio.write(client, source, out)
    assert not [n for n in os.listdir(tmp_path / "sub") if n.startswith(".")]
    back = client.get(vio.read(client, out))
    assert back.to_pylist() == expected.to_pylist()


def test_java_written_parquet_reads_in_python_and_names_work(client, tmp_path):
    path = _csv(tmp_path / "data.csv", rows=10)
    oid = vio.read(client, path, name="io-small")
    assert client.get_name("io-small") == oid
    out = str(tmp_path / "small.parquet")
    vio.write(client, "io-small", out)
    assert pq.read_table(out).equals(client.get(oid))


def test_a_directory_reads_as_one_table(client, tmp_path):
    d = tmp_path / "parts"
    d.mkdir()
    (d / "a.csv").write_text("x,y\n1,2\n3,4\n")
    (d / "b.csv").write_text("x,y\n5,6\n")
    (d / "_SUCCESS").write_text("")
    assert client.get(vio.read(client, str(d))).num_rows == 3
    assert client.get(vio.read(client, str(d / "b*.csv"))).to_pydict() == {"x": [5], "y": [6]}


def test_partial_reads_split_the_files(client, tmp_path):
    d = tmp_path / "parts"
    d.mkdir()
    for i in range(5):
        (d / ("p%d.csv" % i)).write_text("x\n%d\n%d\n" % (i, i + 10))
    counts = [client.get(vio.read(client, str(d), proc_num=3, proc_index=i)).num_rows for i in range(3)]
    assert counts == [4, 4, 2]
    assert client.get(vio.read(client, str(d), proc_num=8, proc_index=7)).num_rows == 0


def _chunks(client, oid):
    meta = client.get_meta(oid)
    assert meta.typename == "vineyard::GlobalDataFrame" and meta.is_global
    n = int(meta["partitions_-size"])
    assert (int(meta["partition_shape_row_"]), int(meta["partition_shape_column_"])) == (n, 1)
    return [meta.member("partitions_-%d" % i).id for i in range(n)]


def test_a_directory_reads_in_parallel_into_a_global_dataframe_of_a_chunk_per_file(client, tmp_path):
    d = tmp_path / "parts"
    d.mkdir()
    for f in range(4):
        (d / ("part-%d.csv" % f)).write_text("x,y\n" + "".join("%d,v%d\n" % (100 * f + r, r) for r in range(3 + f)))
    (d / "_SUCCESS").write_text("")
    oid = vio.read(client, str(d), chunks="file", name="parts")
    assert client.get_name("parts") == oid
    chunks = _chunks(client, oid)
    assert [client.get(c).equals(pa.csv.read_csv(str(d / ("part-%d.csv" % f)))) for f, c in enumerate(chunks)] == [True] * 4
    assert all(client.get_meta(c).typename == "vineyard::Table" for c in chunks)
    assert len(_chunks(client, vio.read(client, str(d / "part-[12].csv"), **{"global": True}))) == 2


def test_chunks_per_row_group_and_partial_reads_of_one_file(client, tmp_path):
    table = pa.table({"x": list(range(1000)), "s": ["v%d" % i for i in range(1000)]})
    path = str(tmp_path / "t.parquet")
    pq.write_table(table, path, row_group_size=250)
    chunks = _chunks(client, vio.read(client, path, chunks="row_group"))
    assert [client.get(c).num_rows for c in chunks] == [250] * 4, "a chunk per row group"
    assert pa.concat_tables([client.get(c) for c in chunks]).equals(table)
    # one file among 3 readers: every 3rd batch (row group) each, together the file
    slices = [client.get(vio.read(client, path, proc_num=3, proc_index=i)) for i in range(3)]
    assert [t.column("x")[0].as_py() for t in slices] == [0, 250, 500]
    assert [t.num_rows for t in slices] == [500, 250, 250]
    assert sorted(x for t in slices for x in t.column("x").to_pylist()) == list(range(1000))


def test_a_bad_file_among_many_fails_the_partitioned_read_and_leaves_nothing(client, tmp_path):
    d = tmp_path / "parts"
    d.mkdir()
    (d / "a.csv").write_text("x,y\n1,2\n")
    (d / "b.csv").write_text("x,y\n1,2\n3\n")
    before = client.list_objects("*", limit=100)
    with pytest.raises(vio.Malformed) as e:
        vio.read(client, str(d), chunks="file")
    assert "b.csv" in e.value.uri
    assert client.list_objects("*", limit=100) == before
    with pytest.raises(vio.Unsupported):
        vio.read(client, str(d), chunks="rows")


def test_errors_are_typed_name_the_file_and_leave_nothing(accounting_daemon, tmp_path):
    with vj.connect(accounting_daemon.socket) as client:
        before = settled_usage(client, 1)
        missing = str(tmp_path / "nope.csv")
        with pytest.raises(vio.NotFound) as e:
            vio.read(client, missing)
        assert e.value.uri == missing and missing in str(e.value)
        assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, vj.VineyardIOError)

        bad = tmp_path / "bad.csv"
        bad.write_text("a,b,c\n" + "".join("%d,x,%d\n" % (i, i) for i in range(100)) + "1,2\n")
        with pytest.raises(vio.Malformed) as e:
            vio.read(client, str(bad))
        assert e.value.position.startswith("row ") and "Expected 3 columns, got 2" in str(e.value)

        pq.write_table(pa.table({"a": [1, 2, 3]}), str(tmp_path / "t.parquet"))
        data = bytearray((tmp_path / "t.parquet").read_bytes())
        data[-2] ^= 0x55
        (tmp_path / "t.parquet").write_bytes(bytes(data))
        with pytest.raises(vio.Malformed) as e:
            vio.read(client, str(tmp_path / "t.parquet"))
        assert e.value.position == "footer"

        with pytest.raises(vio.Unsupported):
            vio.read(client, str(bad), delimeter=";")
        with pytest.raises(vio.Unsupported):
            vio.read(client, "gs://bucket/x.csv")
        assert client.list_objects("*", limit=100) == []
        assert client.instance_status()["memory_usage"] == before


def _shape(client, meta):
    """The tree without ids, signatures, instance ids, creation times and transient flags; blobs by hash."""
    out = {}
    members = meta.members()
    for k, v in meta.items():
        if k in ("id", "signature", "instance_id", "transient", "__timestamp"):
            continue
        m = members.get(k)
        if m is None:
            out[k] = v
        elif m.is_blob:
            length = int(m.get("length", m.nbytes) or 0)
            out[k] = hashlib.sha256(bytes(client.blob_of(m)) if length else b"").hexdigest()
        else:
            out[k] = _shape(client, m)
    return out


@pytest.mark.parametrize("compression", ["zstd", "none"])
def test_serialize_round_trip_ids_aside(client, tmp_path, compression):
    np = pytest.importorskip("numpy")
    table = vio.read(client, _csv(tmp_path / "data.csv"))
    tensor = client.put(np.arange(10000, dtype=np.float64).reshape(100, 100))
    for oid in (table, tensor):
        target = tmp_path / ("obj-%s" % oid)
        vio.serialize(client, oid, str(target), compression=compression)
        root = json.loads((target / "1-0" / "metadata.json").read_text())
        assert root["__typename"] == client.get_meta(oid).typename and root["__path"] == ""
        back = vio.deserialize(client, str(target))
        assert back != oid
        a, b = client.get_meta(oid), client.get_meta(back)
        client.prefetch_blobs(a)
        client.prefetch_blobs(b)
        assert _shape(client, a) == _shape(client, b)


def test_a_truncated_blob_is_malformed_and_nothing_is_left(accounting_daemon, tmp_path):
    np = pytest.importorskip("numpy")
    with vj.connect(accounting_daemon.socket) as client:
        before = settled_usage(client, 1)
        oid = client.put(np.arange(5000, dtype=np.float64))
        vio.serialize(client, oid, str(tmp_path / "t"), compression="none")
        client.delete([oid])
        blob = tmp_path / "t" / "1-0" / "buffer_" / "blob"
        blob.write_bytes(blob.read_bytes()[:-100])
        with pytest.raises(vio.Malformed) as e:
            vio.deserialize(client, str(tmp_path / "t"))
        assert e.value.position == "buffer_/blob"
        assert client.list_objects("*", limit=100) == []
        assert client.instance_status()["memory_usage"] == before
