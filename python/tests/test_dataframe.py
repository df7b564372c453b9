"""pandas DataFrames as vineyard::DataFrame."""

import pytest

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")

import vineyard_java as vj  # noqa: E402
from helpers import address_in_regions  # noqa: E402


def _frame(rows=50):
    return pd.DataFrame(
        {
            "ints": np.arange(rows, dtype=np.int64) * 7,
            "floats": np.linspace(0.0, 1.0, rows),
            "small": np.arange(rows, dtype=np.int32) % 5,
            "flags": np.arange(rows) % 3 == 0,
            "words": ["w%d" % i if i % 4 else None for i in range(rows)],
            7: np.arange(rows, dtype=np.float32),
        },
        index=np.arange(rows) * 10 + 3,
    )


def test_dataframe_round_trip(client, client2):
    frame = _frame()
    got = client2.get(client.put(frame))
    pd.testing.assert_frame_equal(got, frame)


def test_dataframe_metadata_keys(client):
    frame = _frame(5)
    meta = client.get_meta(client.put(frame))
    assert meta.typename == "vineyard::DataFrame"
    assert vj.from_json(meta["columns_"]) == ["ints", "floats", "small", "flags", "words", 7]
    assert meta["__values_-size"] == 6
    for i, name in enumerate(frame.columns):
        assert vj.from_json(meta["__values_-key-%d" % i]) == name
        column = meta.member("__values_-value-%d" % i)
        assert column.typename.startswith("vineyard::Tensor<")
        assert column["shape_"] == "[5]"
    assert meta.member("__values_-value-0").typename == "vineyard::Tensor<int64>"
    assert meta.member("__values_-value-1").typename == "vineyard::Tensor<double>"
    assert meta.member("__values_-value-4").typename == "vineyard::Tensor<std::string>"
    index = meta.member("index_")
    assert index.typename == "vineyard::Tensor<int64>"
    for key in ("partition_index_row_", "partition_index_column_", "row_batch_index_", "nbytes"):
        assert key in meta


def test_numeric_columns_are_zero_copy(client, client2):
    frame = _frame(1000)
    got = client2.get(client.put(frame))
    regions = client2.mapped_regions()
    for name in ("ints", "floats", "small"):
        column = got[name].to_numpy()
        assert address_in_regions(column.ctypes.data, column.nbytes, regions, writable=False), name


def test_empty_and_default_index(client, client2):
    pd.testing.assert_frame_equal(
        client2.get(client.put(pd.DataFrame({"a": [1.0, 2.0]}))), pd.DataFrame({"a": [1.0, 2.0]})
    )
    empty = client2.get(client.put(pd.DataFrame()))
    assert empty.shape == (0, 0)


def test_cpp_layout_with_index_among_values(client, client2):
    """C++ keeps the index as values_["index_"] instead of an index_ member."""
    meta = vj.ObjectMeta("vineyard::DataFrame")
    meta["columns_"] = ["a", "b"]
    columns = {"a": np.array([1, 2, 3], dtype=np.int64), "b": np.array([0.5, 1.5, 2.5]), "index_": np.array([7, 8, 9])}
    for i, (name, values) in enumerate(columns.items()):
        meta["__values_-key-%d" % i] = vj.to_json(name)
        meta.add_member("__values_-value-%d" % i, client.get_meta(client.put(values)))
    meta["__values_-size"] = 3
    meta["partition_index_row_"] = 0
    meta["partition_index_column_"] = 0
    meta["row_batch_index_"] = 0
    got = client2.get(client.create_metadata(meta).id)
    expected = pd.DataFrame({"a": columns["a"], "b": columns["b"]}, index=columns["index_"])
    pd.testing.assert_frame_equal(got, expected)
