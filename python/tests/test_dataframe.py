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


def test_a_named_index_and_tuple_column_names_round_trip(client, client2):
    frame = pd.DataFrame(np.arange(6.0).reshape(3, 2), columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")]),
                         index=pd.Index([10, 20, 30], name="key"))
    oid = client.put(frame)
    pd.testing.assert_frame_equal(client2.get(oid), frame)
    index = client2.get_meta(oid).member("index_")
    # as vineyard's Python client writes an index: vineyard::Index over the values' tensor
    assert index.typename == "vineyard::Index"
    assert vj.from_json(index["name"]) == "key" and index["value_type_"] == "int64"
    assert index.member("value_").typename == "vineyard::Tensor<int64>"


def test_vineyard_pythons_index_layout_is_read(client, client2):
    """vineyard's Python client writes every index (a RangeIndex too) as a vineyard::Index."""
    meta = vj.ObjectMeta("vineyard::DataFrame")
    meta["columns_"] = ["a"]
    meta["__values_-key-0"] = vj.to_json("a")
    meta.add_member("__values_-value-0", client.get_meta(client.put(np.array([1.5, 2.5]))))
    meta["__values_-size"] = 1
    index = vj.ObjectMeta("vineyard::Index", name=vj.to_json(None), value_type_="int64")
    index.add_member("value_", client.get_meta(client.put(np.array([0, 1], dtype=np.int64))))
    meta.add_member("index_", index)
    meta["partition_index_row_"] = meta["partition_index_column_"] = meta["row_batch_index_"] = 0
    created = client.create_metadata(meta)
    got = client2.get(created.id)
    pd.testing.assert_frame_equal(got, pd.DataFrame({"a": [1.5, 2.5]}, index=pd.Index([0, 1])))
    named = vj.ObjectMeta("vineyard::Index", name=vj.to_json("when"), value_type_="int64")
    named.add_member("value_", created.member("index_").member("value_").id)
    pd.testing.assert_index_equal(client2.get(client.create_metadata(named).id), pd.Index([0, 1], name="when"))


def test_nullable_extension_columns_keep_their_values(client, client2):
    frame = pd.DataFrame({
        "full": pd.array([1, 2, 3], dtype="Int64"),
        "holes": pd.array([1, None, 3], dtype="Int32"),
        "floats": pd.array([0.5, None, 1.5], dtype="Float64"),
        "flags": pd.array([True, False, True], dtype="boolean"),
    })
    got = client2.get(client.put(frame))
    assert got["full"].dtype == np.int64 and got["full"].tolist() == [1, 2, 3]
    # what pandas' own to_numpy makes of them: floats, NaN for the missing values
    assert got["holes"].dtype == np.float64 and got["holes"].tolist()[::2] == [1.0, 3.0] and np.isnan(got["holes"][1])
    assert np.isnan(got["floats"][1]) and got["floats"][2] == 1.5
    assert got["flags"].dtype == np.bool_ and got["flags"].tolist() == [True, False, True]
    strings = pd.DataFrame({"s": pd.Series(["a", None, "c"], dtype="string"),
                            "p": pd.Series([1, None, 3], dtype="int64[pyarrow]")})
    back = client2.get(client.put(strings))
    assert back["s"].tolist()[::2] == ["a", "c"] and pd.isna(back["s"][1])
    assert back["p"].tolist()[::2] == [1.0, 3.0] and np.isnan(back["p"][1])


@pytest.mark.parametrize(
    "column, message",
    [
        (pd.array([2 ** 60 + 1, None], dtype="Int64"), "float64 does not hold exactly"),
        (pd.array([True, None], dtype="boolean"), "has no nulls"),
        (pd.Series(pd.to_datetime(["2024-01-01", "2024-06-01"]).tz_localize("UTC")), "timezone-aware"),
    ],
    ids=["big-integers-with-holes", "boolean-with-holes", "timezone-aware"],
)
def test_a_column_a_tensor_cannot_hold_is_refused_and_nothing_is_stored(client, column, message):
    before = client.instance_status()["memory_usage"]
    frame = pd.DataFrame({"ok": np.arange(2.0), "bad": column})
    with pytest.raises(vj.VineyardTypeError, match=message) as raised:
        client.put(frame)
    assert "'bad'" in str(raised.value)
    assert client.instance_status()["memory_usage"] == before


def test_series_and_index_round_trip_as_vineyard_pythons_objects(client, client2):
    series = pd.Series(np.arange(5, dtype=np.float64) / 2, index=pd.Index(list("abcde"), name="letter"), name="half")
    oid = client.put(series)
    got = client2.get(oid)
    pd.testing.assert_series_equal(got, series)
    assert address_in_regions(got.to_numpy().ctypes.data, got.to_numpy().nbytes, client2.mapped_regions()), "copied"
    meta = client2.get_meta(oid)
    assert meta.typename == "vineyard::Series" and vj.from_json(meta["name"]) == "half"
    assert meta.member("index_").typename == "vineyard::Index"
    assert meta.member("value_").typename == "vineyard::Tensor<double>"
    words = pd.Series(["x", None, "z"], dtype="string")
    back = client2.get(client.put(words))
    assert back.tolist()[::2] == ["x", "z"] and pd.isna(back[1]) and back.index.tolist() == [0, 1, 2]
    index = pd.Index([3, 1, 2], name="n")
    pd.testing.assert_index_equal(client2.get(client.put(index)), index)


def test_a_series_a_tensor_cannot_hold_is_refused_and_nothing_is_stored(client):
    before = client.instance_status()["memory_usage"]
    with pytest.raises(vj.VineyardTypeError, match="float64 does not hold exactly"):
        client.put(pd.Series(pd.array([2 ** 60 + 1, None], dtype="Int64"), name="big"))
    with pytest.raises(vj.VineyardTypeError, match="MultiIndex"):
        client.put(pd.Series([1, 2], index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)])))
    assert client.instance_status()["memory_usage"] == before
