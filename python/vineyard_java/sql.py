"""DuckDB SQL over vineyard objects, read in place.

A query names a vineyard Table or RecordBatch as ``vineyard('name')``; DuckDB scans the pyarrow view of the
object (its buffers are the daemon's shared memory) through the Arrow C stream interface, so nothing is
copied on the way in. Results come back as a pyarrow Table, or go into vineyard as a new
``vineyard::Table`` (one copy, out of DuckDB's memory)::

    import vineyard_java as vj
    from vineyard_java.sql import DuckSession

    with DuckSession(client) as duck:
        oid = duck.query_into("SELECT k, sum(v) AS s FROM vineyard('events') GROUP BY k", "sums")

Each ``vineyard('...')`` becomes a DuckDB view over a get made for that query, unregistered (and so
released) when the query has returned; :meth:`DuckSession.view` registers one that stays until
:meth:`DuckSession.close`.
"""

import itertools
import re

_VINEYARD_CALL = re.compile(r"vineyard\(\s*'((?:[^']|'')*)'\s*\)")
_views = itertools.count(1)


def _arrow_table(value):
    import pyarrow as pa

    if isinstance(value, pa.RecordBatch):
        return pa.Table.from_batches([value])
    if isinstance(value, pa.Table):
        return value
    raise TypeError("a vineyard Table or RecordBatch is needed for SQL, got %s" % type(value).__name__)


def _to_table(relation):
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch()


class DuckSession:
    """One DuckDB connection (new and in-memory unless ``con`` is given) with vineyard objects as views."""

    def __init__(self, client, con=None):
        import duckdb

        self.client = client
        self._owns = con is None
        self.con = duckdb.connect() if con is None else con
        #: the pyarrow Tables registered by :meth:`view`, by view name (DuckDB scans these buffers).
        self.tables = {}

    def view(self, view_name, name):
        """Names the vineyard object ``name`` as the DuckDB view ``view_name`` until :meth:`close`."""
        table = _arrow_table(self.client.get(name=name))
        self.con.register(view_name, table)
        self.tables[view_name] = table

    def query(self, sql):
        """Runs ``sql`` (``vineyard('name')`` names a vineyard object) and returns a pyarrow Table."""
        views = []

        def register(match):
            view = "__vineyard_%d" % next(_views)
            self.con.register(view, _arrow_table(self.client.get(name=match.group(1).replace("''", "'"))))
            views.append(view)
            return '"%s"' % view

        try:
            return _to_table(self.con.execute(_VINEYARD_CALL.sub(register, sql)))
        finally:
            for view in views:
                self.con.unregister(view)

    def query_into(self, sql, name=None):
        """Runs ``sql`` as :meth:`query` and puts the result into vineyard as a Table (named when asked)."""
        return self.client.put(self.query(sql), name=name)

    def close(self):
        for view in self.tables:
            self.con.unregister(view)
        self.tables = {}
        if self._owns:
            self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
