"""pyarrow Tables and RecordBatches as vineyard::Table / vineyard::RecordBatch."""

import pytest

pa = pytest.importorskip("pyarrow")

import vineyard_java as vj  # noqa: E402
from helpers import address_in_regions  # noqa: E402


def _table():
    return pa.table(
        {
            "i64": pa.array([1, 2, None, 4, 5], pa.int64()),
            "f32": pa.array([0.5, 1.5, 2.5, 3.5, 4.5], pa.float32()),
            "u8": pa.array([1, 2, 3, 4, 5], pa.uint8()),
            "flag": pa.array([True, None, False, True, False]),
            "text": pa.array(["a", None, "ccc", "", "日本"]),
            "large": pa.array(["x", "y", "z", "w", "v"], pa.large_string()),
        }
    )


def test_table_round_trip(client, client2):
    table = _table()
    got = client2.get(client.put(table))
    assert got.schema == table.schema
    assert got.equals(table)


def test_multi_batch_and_sliced_table(client, client2):
    table = pa.concat_tables([_table(), _table().slice(1, 3)])
    assert len(table.to_batches()) == 2
    got = client2.get(client.put(table))
    assert got.equals(table)
    assert client2.get_meta(client.put(table))["batch_num_"] == 2


def test_record_batch_round_trip(client, client2):
    batch = _table().to_batches()[0]
    oid = client.put(batch)
    got = client2.get(oid)
    assert isinstance(got, pa.RecordBatch)
    assert got.equals(batch)


def test_table_metadata_keys(client):
    table = _table()
    meta = client.get_meta(client.put(table))
    assert meta.typename == "vineyard::Table"
    assert meta["num_rows_"] == 5 and meta["num_columns_"] == 6
    assert meta["batch_num_"] == 1 and meta["partitions_-size"] == 1
    schema = meta.member("schema_")
    assert schema.typename == "vineyard::SchemaProxy"
    assert "bytes" in vj.from_json(schema["schema_binary_"])
    batch = meta.member("partitions_-0")
    assert batch.typename == "vineyard::RecordBatch"
    assert batch["row_num_"] == 5 and batch["column_num_"] == 6 and batch["__columns_-size"] == 6
    column = batch.member("__columns_-0")
    assert column.typename == "vineyard::NumericArray<int64>"
    for key in ("length_", "null_count_", "offset_"):
        assert key in column
    assert column["null_count_"] == 1
    # data_type_ as vineyard 0.24's builders write it: Arrow's name of the element type
    assert column["data_type_"] == "int64"
    assert batch.member("__columns_-1")["data_type_"] == "float"
    assert batch.member("__columns_-2")["data_type_"] == "uint8"
    assert "data_type_" not in batch.member("__columns_-4")
    assert column.member("buffer_").is_blob and column.member("null_bitmap_").is_blob
    assert batch.member("__columns_-3").typename == "vineyard::BooleanArray"
    text = batch.member("__columns_-4")
    # C++ 0.24's type_name of StringArray / LargeStringArray (the names its object factory knows)
    assert text.typename == "vineyard::BaseBinaryArray<arrow::StringArray>"
    assert {"buffer_data_", "buffer_offsets_", "null_bitmap_"} <= set(text.members())
    assert batch.member("__columns_-5").typename == "vineyard::BaseBinaryArray<arrow::LargeStringArray>"
    # no nulls: the bitmap is the empty blob
    assert batch.member("__columns_-1").member("null_bitmap_").id == vj.EMPTY_BLOB_ID


def test_numeric_column_is_zero_copy(client, client2):
    table = pa.table({"v": pa.array(range(10000), pa.int64())})
    got = client2.get(client.put(table))
    data = got.column("v").chunk(0).buffers()[1]
    assert address_in_regions(data.address, data.size, client2.mapped_regions(), writable=False)


def _nested():
    return pa.table(
        {
            "list": pa.array([[1, 2], None, [], [3], [4, None, 6]], pa.list_(pa.int64())),
            "large_list": pa.array([["a"], ["b", None], None, [], ["日本", "e"]], pa.large_list(pa.string())),
            "fixed_list": pa.array([[0.5, 1.5], [2.5, 3.5], None, [4.5, None], [6.5, 7.5]], pa.list_(pa.float64(), 2)),
            "list_of_lists": pa.array([[[1], [2, 3]], [], None, [[4]], [None, [5]]], pa.list_(pa.list_(pa.int32()))),
            "binary": pa.array([b"\x00\x01", None, b"", b"xyz", b"\xff"], pa.binary()),
            "large_binary": pa.array([b"a", b"bb", None, b"", b"c"], pa.large_binary()),
            "fixed_binary": pa.array([b"abc", None, b"def", b"ghi", b"\x00\x00\x00"], pa.binary(3)),
            "nothing": pa.nulls(5),
        }
    )


def test_lists_binaries_and_fixed_size_types_round_trip(client, client2):
    table = _nested()
    got = client2.get(client.put(table))
    assert got.schema == table.schema
    assert got.equals(table)
    # slices (a non-zero offset_ on every column) and several batches
    sliced = pa.concat_tables([table.slice(1, 3), table.slice(0, 5)])
    oid = client.put(sliced)
    assert client2.get(oid).equals(sliced)
    # stored as the slices' own values, offset_ 0, not as the buffers they view
    first = client2.get_meta(oid).member("partitions_-0")
    assert [first.member("__columns_-%d" % i)["offset_"] for i in range(7)] == [0] * 7
    # the list's values are read in place: the child buffer lies in the reader's mapping
    values = got.column("list").chunk(0).values.buffers()[1]
    assert address_in_regions(values.address, values.size, client2.mapped_regions(), writable=False)


def test_nested_and_binary_metadata_as_cpp_writes_it(client):
    """Typenames and keys as in shared/compat/transcripts-wave2/cpp_arrow_data_structure_test.jsonl."""
    batch = client.get_meta(client.put(_nested().to_batches()[0]))
    columns = [batch.member("__columns_-%d" % i) for i in range(8)]
    assert [c.typename for c in columns] == [
        "vineyard::BaseListArray<arrow::ListArray>",
        "vineyard::BaseListArray<arrow::LargeListArray>",
        "vineyard::FixedSizeListArray",
        "vineyard::BaseListArray<arrow::ListArray>",
        "vineyard::BaseBinaryArray<arrow::BinaryArray>",
        "vineyard::BaseBinaryArray<arrow::LargeBinaryArray>",
        "vineyard::FixedSizeBinaryArray",
        "vineyard::NullArray",
    ]
    lst = columns[0]
    assert lst["length_"] == 5 and lst["null_count_"] == 1 and lst["offset_"] == 0
    assert {"buffer_offsets_", "null_bitmap_", "values_"} <= set(lst.members())
    assert lst.member("values_").typename == "vineyard::NumericArray<int64>"
    assert lst.member("values_")["length_"] == 6
    assert columns[2]["list_size_"] == 2 and columns[2].member("values_").typename == "vineyard::NumericArray<double>"
    assert columns[3].member("values_").member("values_").typename == "vineyard::NumericArray<int>"
    assert columns[6]["byte_width_"] == 3 and {"buffer_", "null_bitmap_"} <= set(columns[6].members())


@pytest.mark.parametrize(
    "column, older",
    [("text", "vineyard::StringArray"), ("large", "vineyard::LargeStringArray")],
)
def test_a_standalone_array_reads_under_the_older_spellings(client, client2, column, older):
    """Earlier versions of this client, and of vineyard's Python one, wrote these typenames."""
    array = _table().column(column).chunk(0)
    meta = client.get_meta(client.put(array))
    fields = {k: meta[k] for k in ("length_", "null_count_", "offset_", "nbytes")}
    renamed = vj.ObjectMeta(older, **fields)
    for name in ("buffer_offsets_", "buffer_data_", "null_bitmap_"):
        renamed.add_member(name, meta.member(name).id)
    got = client2.get(client.create_metadata(renamed).id)
    assert got.equals(array)
    lists = _nested().column("large_list").chunk(0)
    meta = client.get_meta(client.put(lists))
    renamed = vj.ObjectMeta("vineyard::LargeListArray", **{k: meta[k] for k in ("length_", "null_count_", "offset_", "nbytes")})
    for name in ("buffer_offsets_", "null_bitmap_", "values_"):
        renamed.add_member(name, meta.member(name).id)
    assert client2.get(client.create_metadata(renamed).id).equals(lists)


@pytest.mark.parametrize(
    "value",
    [
        pa.array([{"x": 1}, {"x": 2}]),
        pa.array(["a", "b", "a"]).dictionary_encode(),
        pa.array([1, 2], pa.timestamp("ms")),
        pa.array([[{"x": 1}]]),   # a list of an unsupported type: refused before anything is stored
    ],
    ids=["struct", "dictionary", "timestamp", "list-of-struct"],
)
def test_unsupported_arrow_type(client, value):
    before = client.instance_status()["memory_usage"]
    with pytest.raises(vj.VineyardTypeError, match="is not supported"):
        client.put(pa.table({"c": value}))
    assert client.instance_status()["memory_usage"] == before


def test_a_small_slice_stores_only_its_own_values(client, client2):
    big = pa.table({"v": pa.array(range(1_000_000), pa.int64())})
    before = client.instance_status()["memory_usage"]
    oid = client.put(big.slice(10, 5))
    assert client.instance_status()["memory_usage"] - before < 1 << 20, "stored the 8 MB the slice views"
    assert client2.get(oid).column("v").to_pylist() == [10, 11, 12, 13, 14]
