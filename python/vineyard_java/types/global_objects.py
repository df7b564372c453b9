"""Global objects (``vineyard::GlobalTensor``, ``vineyard::GlobalDataFrame``): ``global: true``,
members (``partitions_-<i>``) that may live on any instance of a cluster.

Every chunk's metadata is readable from any instance; only the chunks on this client's instance
can be mapped, so the resolver materialises nothing and :meth:`GlobalObject.local_chunks` reads
those (as vineyard's Python ``global_dataframe_resolver`` keeps the local ones).
"""

__all__ = ["GlobalObject", "resolve_global"]


class GlobalObject:
    """A global object: ``chunks`` (the metadata of every member, wherever it lives) and the
    values of the ones on this instance through :meth:`local_chunks` (also its iteration)."""

    def __init__(self, client, meta):
        self.meta = meta
        self.typename = meta.typename
        self._client = client
        size = int(meta.get("partitions_-size", 0))
        self.chunks = [meta["partitions_-%d" % i] for i in range(size)]
        self.partition_shape = [int(meta[k]) for k in ("partition_shape_row_", "partition_shape_column_") if k in meta]

    def local_chunk_metas(self):
        """The metadata of the chunks on this client's instance."""
        return [m for m in self.chunks if m.instance_id == self._client.instance_id]

    def local_chunks(self, **kwargs):
        """The values of the chunks on this client's instance (``client.get`` of each)."""
        return [self._client.get(m.id, **kwargs) for m in self.local_chunk_metas()]

    def __iter__(self):
        return iter(self.local_chunks())

    def __len__(self):
        return len(self.chunks)

    def __repr__(self):
        return "GlobalObject(%s, %d chunks, %d local)" % (self.typename, len(self.chunks), len(self.local_chunk_metas()))


def resolve_global(client, meta, **_kwargs):
    """Resolver of ``vineyard::GlobalTensor`` and ``vineyard::GlobalDataFrame``."""
    return GlobalObject(client, meta)
