"""Names: put/get/list/drop, and get_name(wait=True) answered when another thread puts it."""

import threading

import pytest

import vineyard_java as vj
from helpers import wait_until


def _persisted(client, typename="test::Named"):
    created = client.create_metadata(vj.ObjectMeta(typename))
    client.persist(created.id)
    return created.id


def test_put_get_list_drop(client, client2):
    oid = _persisted(client)
    name = "name-test-%d" % oid
    client.put_name(oid, name)
    assert client2.get_name(name) == oid
    assert client2.get_meta(oid).name == name
    assert client2.list_names(name + "*") == {name: oid}
    client.drop_name(name)
    with pytest.raises(vj.ObjectNotExists):
        client2.get_name(name)
    assert client2.list_names(name + "*") == {}
    client.drop_name(name)  # dropping a missing name is fine


def test_names_need_persistent_non_blob_objects(client):
    transient = client.create_metadata(vj.ObjectMeta("test::Transient"))
    with pytest.raises(vj.InvalidError) as info:
        client.put_name(transient.id, "transient-name")
    assert info.value.code == 1
    blob_id = client.put(b"some bytes")
    with pytest.raises(vj.InvalidError):
        client.put_name(blob_id, "blob-name")
    with pytest.raises(vj.ObjectNotExists) as info:
        client.put_name(vj.ObjectID(0x0000000000001234), "ghost-name")
    assert info.value.code == 12


def test_get_name_waits_until_another_thread_puts_it(client, client2, vineyard_socket):
    name = "late-name-%d" % id(client)
    result = {}

    def waiter():
        try:
            result["id"] = client.get_name(name, wait=True, timeout=60)
        except BaseException as exc:  # reported below
            result["error"] = exc

    baseline = client2.instance_status()["deferred_requests"]
    thread = threading.Thread(target=waiter, name="get-name-waiter")
    thread.start()
    try:
        # the daemon parks the request: wait (bounded) until it says so
        assert wait_until(lambda: client2.instance_status()["deferred_requests"] > baseline)
        assert thread.is_alive() and not result
        oid = _persisted(client2, "test::LateNamed")
        client2.put_name(oid, name)
    finally:
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert "error" not in result, result.get("error")
    assert result["id"] == oid
    client2.drop_name(name)


def test_get_name_wait_timeout_leaves_the_client_usable(client, client2):
    name = "never-put-%d" % id(client)
    baseline = client2.instance_status()["deferred_requests"]
    with pytest.raises(vj.VineyardTimeoutError) as info:
        client.get_name(name, wait=True, timeout=0.3)
    assert isinstance(info.value, TimeoutError)
    assert not client.closed
    # the same client goes on: a put and a get
    oid = client.put(b"after the timeout")
    assert bytes(client.get(oid)) == b"after the timeout"
    # the daemon dropped the parked request with its connection
    assert wait_until(lambda: client2.instance_status()["deferred_requests"] == baseline)

    # the name appears after the timeout: nothing stale is read, the client sees it
    named = _persisted(client2, "test::AfterTimeout")
    client2.put_name(named, name)
    assert client.get_name(name) == named
    assert client.get_name(name, wait=True, timeout=30) == named
    assert client.exists(named)
    client2.drop_name(name)


def test_get_name_wait_does_not_block_other_requests_of_the_client(client, client2):
    """The waiting request has a connection of its own: another thread's requests on the
    same client go on meanwhile."""
    name = "late-name-2-%d" % id(client)
    result = {}
    baseline = client2.instance_status()["deferred_requests"]
    waiter = threading.Thread(target=lambda: result.setdefault("id", client.get_name(name, wait=True, timeout=60)))
    waiter.start()
    try:
        assert wait_until(lambda: client2.instance_status()["deferred_requests"] > baseline)
        assert bytes(client.get(client.put(b"meanwhile"))) == b"meanwhile"
        oid = _persisted(client2, "test::LateNamed2")
        client2.put_name(oid, name)
    finally:
        waiter.join(timeout=60)
    assert result.get("id") == oid
    client2.drop_name(name)
