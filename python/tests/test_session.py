"""Sessions from Python: each has its own socket and namespace, shallow copy moves an object across,
a session's memory limit holds, deleting a session frees its memory and removes its socket, and a
client killed with -9 does not end its session."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import vineyard_java as vj
from conftest import subprocess_env


def _wait(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_session_has_its_own_socket_objects_and_names(private_daemon):
    with vj.connect(private_daemon.socket) as root:
        in_root = root.put(np.arange(3), name="x")
        with root.new_session() as a:
            assert a.session_id != 0
            assert os.path.exists(private_daemon.socket + ".S%016x" % a.session_id)
            assert not a.exists(in_root)
            with pytest.raises(vj.errors.ObjectNotExists):
                a.get_meta(in_root)
            in_a = a.put(np.arange(5), name="x")
            assert a.get(name="x").tolist() == [0, 1, 2, 3, 4]
            assert root.get(name="x").tolist() == [0, 1, 2]
            assert not root.exists(in_a)
            a.delete([in_a])
        root.delete([in_root])


def test_shallow_copy_moves_the_blobs_into_another_session(private_daemon):
    with vj.connect(private_daemon.socket) as root, root.new_session() as a, root.new_session() as b:
        data = np.arange(100000, dtype=np.int64) * 3
        oid = a.put(data)
        used = a.instance_status()["memory_usage"]
        copy = b.shallow_copy_from(a, oid)
        assert copy != oid
        assert b.get_meta(copy).signature == a.get_meta(oid).signature
        assert (b.get(copy) == data).all()
        assert b.instance_status()["memory_usage"] == used
        assert a.instance_status()["memory_usage"] == 0
        b.delete([copy])
        a.delete([oid])


def test_a_session_limit_holds_and_names_the_session(private_daemon):
    with vj.connect(private_daemon.socket) as root, root.new_session(size="1Mi") as s:
        assert s.instance_status()["memory_limit"] == 1 << 20
        kept = s.put(b"a" * (700 << 10))
        with pytest.raises(vj.errors.NotEnoughMemory, match="session S%016x has a memory limit" % s.session_id):
            s.put(b"b" * (700 << 10))
        other = root.put(b"c" * (4 << 20))  # the root session still has the pool
        s.delete([kept])
        s.delete([s.put(b"b" * (700 << 10))])  # a delete gives the room back
        root.delete([other])


def test_deleting_a_session_removes_its_socket_and_frees_its_memory(private_daemon):
    with vj.connect(private_daemon.socket) as root:
        s = root.new_session()
        socket = s.socket
        s.put(b"m" * (40 << 20))
        with pytest.raises(vj.errors.NotEnoughMemory):
            root.put(b"n" * (40 << 20))  # one pool for every session
        s.delete_session()

        def root_fits():
            try:
                root.delete([root.put(b"n" * (40 << 20))])
                return True
            except vj.errors.NotEnoughMemory:
                return False

        assert _wait(lambda: not os.path.exists(socket)), "the deleted session's socket is removed"
        assert _wait(root_fits), "the deleted session's memory is free again"
        with pytest.raises(vj.errors.VineyardConnectionError):
            vj.connect(socket)


def test_a_client_killed_with_minus_9_does_not_end_its_session(private_daemon):
    with vj.connect(private_daemon.socket) as root, root.new_session() as s:
        code = (
            "import sys, vineyard_java as vj\n"
            "c = vj.connect(sys.argv[1])\n"
            "c.put('kept value', name='kept')\n"
            "print('put', flush=True)\n"
            "sys.stdin.readline()\n"
        )
        peer = subprocess.Popen([sys.executable, "-c", code, s.socket], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                env=subprocess_env(), text=True)
        try:
            assert peer.stdout.readline().strip() == "put"
            peer.kill()
            peer.wait(timeout=30)
        finally:
            peer.kill()
            peer.stdout.close()
            peer.stdin.close()
        assert os.path.exists(s.socket)
        assert s.get(name="kept") == "kept value"
        s.delete([s.get_name("kept")])
