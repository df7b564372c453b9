"""bin/build-aot-cache and bin/vineyardd's use of its cache (JDK 25 AOT cache).

Runs first (by file name), so the rest of the suite's daemons start from the cache it builds.
"""

import os
import subprocess

import pytest

import vineyard_java as vj
from conftest import EXTRA_FLAGS, REPO_DIR, running_daemon

CACHE = REPO_DIR / "target" / "vineyardd.aot"
BUILT = REPO_DIR / "target" / ".built"
OURS = os.path.realpath(os.environ.get("VINEYARDD", str(REPO_DIR / "bin" / "vineyardd"))) == \
    os.path.realpath(str(REPO_DIR / "bin" / "vineyardd"))

pytestmark = [
    pytest.mark.skipif(not OURS, reason="the AOT cache belongs to bin/vineyardd; $VINEYARDD names another daemon"),
    # the cache is the daemon's start-up, the same whatever the protocol: the default-flags run checks it
    pytest.mark.skipif("--noextensions" in EXTRA_FLAGS, reason="the daemon's start-up cache: the default-flags run checks it"),
]


def aot_log(extra_env):
    """Starts bin/vineyardd with the JVM's AOT logging on, puts and gets one object, and returns
    what the daemon printed."""
    old = {k: os.environ.get(k) for k in extra_env}
    os.environ.update(extra_env)
    try:
        with running_daemon(size="64Mi") as d:
            with vj.connect(d.socket) as c:
                import numpy as np
                oid = c.put(np.arange(6, dtype=np.float64))
                assert list(c.get(oid)) == [0, 1, 2, 3, 4, 5]
            with open(d.log_path) as f:
                return f.read()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_build_aot_cache_writes_a_cache_newer_than_the_build():
    done = subprocess.run([str(REPO_DIR / "bin" / "build-aot-cache")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert CACHE.stat().st_size > 1 << 20
    assert CACHE.stat().st_mtime > BUILT.stat().st_mtime


def test_vineyardd_starts_from_a_fresh_cache():
    log = aot_log({"VINEYARDD_JAVA_OPTS": "-Xlog:aot=info"})
    assert "Opened AOT cache %s" % CACHE in log


def test_vineyardd_ignores_a_cache_older_than_the_build_and_can_be_told_not_to_use_one():
    assert "Opened AOT cache" not in aot_log({"VINEYARDD_JAVA_OPTS": "-Xlog:aot=info", "VINEYARD_AOT": "off"})
    stat = CACHE.stat()
    built = BUILT.stat().st_mtime
    os.utime(CACHE, (built - 10, built - 10))
    try:
        assert "Opened AOT cache" not in aot_log({"VINEYARDD_JAVA_OPTS": "-Xlog:aot=info"})
    finally:
        os.utime(CACHE, (stat.st_atime, stat.st_mtime))
