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
    assert text.typename == "vineyard::StringArray"
    assert {"buffer_data_", "buffer_offsets_", "null_bitmap_"} <= set(text.members())
    assert batch.member("__columns_-5").typename == "vineyard::LargeStringArray"
    # no nulls: the bitmap is the empty blob
    assert batch.member("__columns_-1").member("null_bitmap_").id == vj.EMPTY_BLOB_ID


def test_numeric_column_is_zero_copy(client, client2):
    table = pa.table({"v": pa.array(range(10000), pa.int64())})
    got = client2.get(client.put(table))
    data = got.column("v").chunk(0).buffers()[1]
    assert address_in_regions(data.address, data.size, client2.mapped_regions(), writable=False)


def test_unsupported_arrow_type(client):
    with pytest.raises(TypeError):
        client.put(pa.table({"l": pa.array([[1, 2], [3]])}))
