"""ObjectMeta encodings, create_metadata, get_meta, list/persist/delete, instance_status."""

import pytest

import vineyard_java as vj
from vineyard_java.types import Registry


# -- ObjectMeta without a daemon --------------------------------------------------------------


def test_vectors_and_maps_are_stored_as_json_strings():
    meta = vj.ObjectMeta("test::Thing")
    meta["shape_"] = (100,)
    meta["params_"] = {"a": 1, "b": [1, 2]}
    meta["names_"] = ["x", "y"]
    meta["count_"] = 3
    meta["label_"] = "plain"
    tree = meta.to_dict()
    assert tree["shape_"] == "[100]"
    assert isinstance(tree["params_"], str) and vj.from_json(tree["params_"]) == {"a": 1, "b": [1, 2]}
    assert tree["names_"] == '["x","y"]'
    assert tree["count_"] == 3 and tree["label_"] == "plain"
    assert meta.get_json("shape_") == [100]
    assert meta.get_json("missing", default=7) == 7


def test_members_by_value_and_by_id():
    inner = vj.ObjectMeta("test::Inner", value_=1)
    outer = vj.ObjectMeta("test::Outer")
    outer.add_member("by_value_", inner)
    outer.add_member("by_id_", vj.ObjectID(0x1234))
    outer.add_member("blob_", vj.ObjectID(0x8000000000000042))
    tree = outer.to_dict()
    assert tree["by_value_"] == {"typename": "test::Inner", "value_": 1}
    assert tree["by_id_"] == {"id": "o0000000000001234"}
    assert tree["blob_"]["typename"] == "vineyard::Blob"
    assert tree["blob_"]["id"] == "o8000000000000042"
    again = vj.ObjectMeta.from_dict(tree)
    assert again.member("by_id_").is_placeholder
    assert again.member("blob_").is_blob
    assert again.member("by_value_")["value_"] == 1
    assert again == outer


def test_object_ids_print_like_vineyard():
    oid = vj.ObjectID(0x687F67575D800001)
    assert str(oid) == "o687f67575d800001"
    assert vj.ObjectID("o687f67575d800001") == oid
    assert not oid.is_blob and vj.ObjectID(vj.EMPTY_BLOB_ID).is_blob
    import json

    assert json.dumps({"id": oid}) == '{"id": %d}' % 0x687F67575D800001
    with pytest.raises(TypeError):
        vj.ObjectID(1.5)
    with pytest.raises(ValueError):
        vj.ObjectID(-1)


def test_longest_prefix_wins():
    registry = Registry()
    registry.register_resolver("vineyard::Tensor", lambda c, m: "generic")
    registry.register_resolver("vineyard::Tensor<double>", lambda c, m: "double")
    registry.register_resolver("vineyard::T", lambda c, m: "short")
    assert registry.find_resolver("vineyard::Tensor<double>")(None, None) == "double"
    assert registry.find_resolver("vineyard::Tensor<int64_t>")(None, None) == "generic"
    assert registry.find_resolver("vineyard::Table")(None, None) == "short"
    assert registry.find_resolver("other::Tensor") is None


# -- against the daemon -----------------------------------------------------------------------


def test_create_and_get_metadata(client, client2):
    meta = vj.ObjectMeta("test::Point")
    meta["x_"] = 1.5
    meta["tags_"] = ["a", "b"]
    created = client.create_metadata(meta)
    assert created.id is not None and not created.id.is_blob
    got = client2.get_meta(created.id)
    assert got.typename == "test::Point"
    assert got["x_"] == 1.5
    assert got["tags_"] == '["a","b"]'
    assert got.get_json("tags_") == ["a", "b"]
    assert got.transient and got.instance_id == client2.instance_id
    assert got.signature is not None


def test_members_nested_by_value_are_created_first(client, client2):
    writer = client.create_blob(16)
    writer.copy(0, b"0123456789abcdef")
    inner = vj.ObjectMeta("test::Inner")
    inner["n_"] = 16
    inner.add_member("buffer_", writer)
    outer = vj.ObjectMeta("test::Outer")
    outer.add_member("inner_", inner)  # no id yet: the client creates it first
    created = client.create_metadata(outer)
    got = client2.get_meta(created.id)
    member = got.member("inner_")
    assert member.typename == "test::Inner" and member.id is not None
    blob = member.member("buffer_")
    assert blob.is_blob and blob.id == writer.id
    assert bytes(client2.get_blob(blob.id)) == b"0123456789abcdef"


def test_member_by_id_is_resolved_by_the_daemon(client, client2):
    first = client.create_metadata(vj.ObjectMeta("test::Leaf", v_=7))
    parent = vj.ObjectMeta("test::Parent")
    parent.add_member("leaf_", first.id)
    created = client.create_metadata(parent)
    leaf = client2.get_meta(created.id).member("leaf_")
    assert leaf.id == first.id
    assert leaf.typename == "test::Leaf" and leaf["v_"] == 7


def test_list_objects_by_glob_and_regex(client):
    tag = "test::Listed%d" % id(client)
    ids = {client.create_metadata(vj.ObjectMeta(tag, i_=i)).id for i in range(3)}
    listed = client.list_objects(tag, limit=10)
    assert {m.id for m in listed} == ids
    assert {m.id for m in client.list_objects("test::Listed%d*" % id(client), limit=10)} == ids
    assert {m.id for m in client.list_objects(r"test::Listed%d$" % id(client), regex=True, limit=10)} == ids
    assert client.list_objects("test::NothingLikeThis*") == []
    assert len(client.list_objects(tag, limit=2)) == 2


def test_persist_and_delete(client, client2):
    created = client.create_metadata(vj.ObjectMeta("test::Persisted", a_=1))
    assert not client.is_persisted(created.id)
    client.persist(created.id)
    assert client2.is_persisted(created.id)
    assert client2.get_meta(created.id).is_persistent
    assert client2.exists(created.id)
    client.delete(created.id)
    assert not client2.exists(created.id)
    with pytest.raises(vj.ObjectNotExists) as info:
        client2.get_meta(created.id)
    assert info.value.object_id == created.id


def test_deep_delete_frees_member_blobs(client, client2):
    np = pytest.importorskip("numpy")
    oid = client.put(np.arange(100, dtype=np.int64))
    blob_id = client.get_meta(oid).member("buffer_").id
    assert bytes(client2.get_blob(blob_id))
    client.delete(oid)
    with pytest.raises(vj.ObjectNotExists):
        client2.get_blob(blob_id)


def test_labels(client):
    created = client.create_metadata(vj.ObjectMeta("test::Labelled"))
    client.label(created.id, {"k1": "v1", "k2": "v2"})
    client.label(created.id, {"k1": "v3"})
    assert client.get_meta(created.id).labels == {"k1": "v3", "k2": "v2"}


def test_instance_status_tracks_memory_and_connections(client, client2):
    before = client.instance_status()
    for key in ("instance_id", "memory_usage", "memory_limit", "ipc_connections", "deferred_requests"):
        assert key in before
    assert before["instance_id"] == client.instance_id
    assert before["ipc_connections"] >= 2
    writer = client.create_blob(1 << 20)
    writer.seal()
    after = client2.instance_status()
    assert after["memory_usage"] >= before["memory_usage"] + (1 << 20)
    assert after["memory_limit"] == before["memory_limit"]


def test_scalars_round_trip(client, client2):
    for value in (42, -7, 2.5, "text", True, False):
        got = client2.get(client.put(value))
        assert got == value and type(got) is type(value)


def test_cpp_scalar_is_readable(client):
    # what vineyard's C++ client writes for Scalar<int> (cpp_name_test transcript)
    meta = vj.ObjectMeta("vineyard::Scalar<int>")
    meta["type_"] = "int32"
    meta["value_"] = 1234
    created = client.create_metadata(meta)
    assert client.get(created.id) == 1234
