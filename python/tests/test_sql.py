"""DuckDB SQL over vineyard objects (vineyard_java.sql): scans in place, results put back, errors."""

import gc

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")

import vineyard_java as vj  # noqa: E402
from vineyard_java.sql import DuckSession  # noqa: E402
from helpers import address_in_regions  # noqa: E402

ROWS = 50_000
GROUPS = 7


def _events():
    return pa.table({
        "k": pa.array([i % GROUPS for i in range(ROWS)], pa.int64()),
        "v": pa.array([i * 0.5 for i in range(ROWS)], pa.float64()),
        "name": pa.array([None if i % 10 == 0 else "n%d" % i for i in range(ROWS)]),
    })


def _usage(client):
    gc.collect()
    return client.instance_status()["memory_usage"]


def test_group_by_over_a_vineyard_table_is_put_back_as_a_table(client, client2):
    baseline = _usage(client)
    events = client.put(_events(), name="events")
    with DuckSession(client2) as duck:
        sums = duck.query_into("SELECT k, count(*) AS n, count(name) AS named, sum(v) AS s "
                               "FROM vineyard('events') GROUP BY k ORDER BY k", "sums")
    assert client2.get_meta(sums).typename == "vineyard::Table"
    got = client.get(name="sums").to_pydict()
    assert got["k"] == list(range(GROUPS))
    for g in range(GROUPS):
        members = range(g, ROWS, GROUPS)
        assert got["n"][g] == len(members)
        assert got["named"][g] == sum(1 for i in members if i % 10 != 0)
        assert got["s"][g] == pytest.approx(sum(i * 0.5 for i in members))
    del got
    for name, oid in (("sums", sums), ("events", events)):
        client.drop_name(name)
        client.delete(oid)
    assert _usage(client) == baseline, "DuckDB's views released every hold"


def test_the_view_duckdb_scans_lies_in_the_pool(client, client2):
    oid = client.put(_events(), name="events")
    with DuckSession(client2) as duck:
        duck.view("ev", "events")
        table = duck.con.execute("SELECT * FROM ev LIMIT 0").fetchall()
        assert table == []
        count, top = duck.con.execute("SELECT count(*), max(k) FROM ev").fetchone()
        assert (count, top) == (ROWS, GROUPS - 1)
        for column in duck.tables["ev"].columns:
            for buf in column.chunk(0).buffers():
                if buf is not None and buf.size:
                    assert address_in_regions(buf.address, buf.size, client2.mapped_regions()), \
                        "the pyarrow view DuckDB reads is the daemon's memory"
    client.drop_name("events")
    client.delete(oid)


def test_a_missing_name_and_bad_sql_are_clear_errors(client, client2):
    with DuckSession(client2) as duck:
        with pytest.raises(vj.ObjectNotExists) as missing:
            duck.query("SELECT * FROM vineyard('no-such-table')")
        assert "no-such-table" in str(missing.value)
        oid = client.put(_events(), name="events")
        import duckdb
        with pytest.raises(duckdb.Error) as bad:
            duck.query("SELECT no_such_column FROM vineyard('events')")
        assert "no_such_column" in str(bad.value)
        client.drop_name("events")
        client.delete(oid)
