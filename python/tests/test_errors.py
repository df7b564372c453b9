"""Clear exceptions: absent/closed daemon, wrong types, missing objects, status mapping."""

import os

import pytest

import vineyard_java as vj
from vineyard_java.errors import error_from_reply


@pytest.mark.parametrize(
    "code, cls, builtin",
    [
        (1, vj.InvalidError, ValueError),
        (2, vj.VineyardKeyError, KeyError),
        (6, vj.VineyardNotImplemented, NotImplementedError),
        (12, vj.ObjectNotExists, KeyError),
        (14, vj.ObjectNotSealed, vj.VineyardError),
        (34, vj.VineyardConnectionError, ConnectionError),
        (41, vj.NotEnoughMemory, MemoryError),
        (99, vj.VineyardError, Exception),
    ],
)
def test_status_codes_map_to_exceptions(code, cls, builtin):
    exc = error_from_reply({"code": code, "message": "seal: id = o00000000000004d2"})
    assert type(exc) is cls and isinstance(exc, builtin) and isinstance(exc, vj.VineyardError)
    assert exc.code == code
    assert "seal: id" in str(exc) and str(code) in str(exc)
    if code == 12:
        assert exc.object_id == 0x4D2


def test_connect_to_absent_daemon(tmp_path):
    with pytest.raises(ConnectionError) as info:
        vj.connect(str(tmp_path / "nobody-listens.sock"))
    assert isinstance(info.value, vj.VineyardConnectionError)


def test_connect_uses_the_environment(vineyard_socket, monkeypatch):
    monkeypatch.setenv(vj.DEFAULT_SOCKET_ENV, vineyard_socket)
    with vj.connect() as client:
        assert client.instance_status()["instance_id"] == client.instance_id
    monkeypatch.delenv(vj.DEFAULT_SOCKET_ENV)
    with pytest.raises(ConnectionError):
        vj.connect()


def test_closed_client(vineyard_socket):
    client = vj.connect(vineyard_socket)
    client.close()
    assert client.closed
    with pytest.raises(ConnectionError):
        client.create_blob(8)
    client.close()  # closing twice is fine


def test_daemon_going_away_mid_session(private_daemon):
    client = vj.connect(private_daemon.socket)
    assert client.instance_status()["ipc_connections"] == 1
    private_daemon.stop()
    with pytest.raises(ConnectionError):
        client.instance_status()
    assert client.closed
    with pytest.raises(ConnectionError):
        vj.connect(private_daemon.socket)


def test_missing_object_carries_its_id(client):
    missing = vj.ObjectID(0x0000000000003039)
    with pytest.raises(vj.ObjectNotExists) as info:
        client.get(missing)
    assert info.value.object_id == missing
    assert isinstance(info.value, KeyError)
    with pytest.raises(vj.ObjectNotExists) as info:
        client.get_meta(missing)
    assert info.value.object_id == missing
    missing_blob = vj.ObjectID(0x8000000000003039)
    with pytest.raises(vj.ObjectNotExists) as info:
        client.get_blob(missing_blob)
    assert info.value.object_id == missing_blob
    with pytest.raises(vj.ObjectNotExists) as info:
        client.persist(missing)  # the daemon's MetaTreeSubtreeNotExists (27)
    assert info.value.object_id == missing
    with pytest.raises(vj.ObjectNotExists):
        client.get_name("no-such-name-%d" % os.getpid())


def test_wrong_types(client):
    with pytest.raises(TypeError):
        client.put(object())
    with pytest.raises(TypeError):
        client.create_blob("12")
    with pytest.raises(ValueError):
        client.create_blob(-1)
    with pytest.raises(TypeError):
        client.get(3.5)
    with pytest.raises(ValueError):
        client.get("not-an-id")
    with pytest.raises(TypeError):
        client.get()
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError):
        client.put(np.array([object(), 1], dtype=object))
    with pytest.raises(TypeError):
        client.get_blob(client.put(np.arange(3)))  # not a blob id


def test_unknown_typename_is_a_type_error(client):
    created = client.create_metadata(vj.ObjectMeta("test::NobodyReadsThis", x_=1))
    with pytest.raises(vj.VineyardTypeError) as info:
        client.get(created.id)
    assert "test::NobodyReadsThis" in str(info.value)
    assert client.get_meta(created.id)["x_"] == 1


def test_not_enough_memory(client):
    limit = client.instance_status()["memory_limit"]
    with pytest.raises(vj.NotEnoughMemory) as info:
        client.create_blob(limit + 1)
    assert info.value.code == 41
    # the connection is still usable
    assert client.create_blob(16).seal().is_blob


def test_daemon_rejects_bad_requests(client):
    with pytest.raises(vj.InvalidError) as info:
        client._request({"type": "no_such_request"})
    assert info.value.code == 1
    assert client.instance_status()["instance_id"] == client.instance_id
