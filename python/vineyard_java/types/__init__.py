"""Builders (Python value -> vineyard object) and resolvers (vineyard object -> Python value).

Builders are looked up along ``type(value).__mro__`` by ``<top-level package>.<class name>``
(``"numpy.ndarray"``, ``"pandas.DataFrame"``, ``"pyarrow.Table"``…, whatever submodule
the class really lives in, which differs between library versions), so registering them needs none of
the optional libraries: numpy, pandas and pyarrow are imported only when such a value is
actually stored or read.

Resolvers are looked up by typename prefix, and the **longest** registered prefix wins, as in
vineyard's ``ResolverContext`` (``vineyard::Tensor`` serves ``vineyard::Tensor<double>``).

A builder is ``fn(client, value, **kwargs) -> ObjectMeta`` (created) or an ``ObjectID``; a
resolver is ``fn(client, meta, **kwargs) -> value``.
"""

import importlib

from ..errors import VineyardTypeError

__all__ = ["Registry", "registry", "qualified_name"]


def qualified_name(cls):
    """``package.QualName`` of a class (only the top-level package of its module)."""
    return "%s.%s" % (cls.__module__.split(".")[0], cls.__qualname__)


def _lazy(module, attr):
    """A function that imports ``vineyard_java.types.<module>`` on first call."""

    target = []

    def call(*args, **kwargs):
        if not target:
            target.append(getattr(importlib.import_module("vineyard_java.types." + module), attr))
        return target[0](*args, **kwargs)

    call.__name__ = attr
    call.__qualname__ = "%s.%s" % (module, attr)
    return call


class Registry:
    """The builder and resolver tables."""

    def __init__(self):
        self._builders = {}
        self._resolvers = {}
        self._by_typename = {}  # typename -> resolver, filled by find_resolver

    def register_builder(self, type_or_name, builder):
        """Register ``builder`` for a class (or its qualified name)."""
        key = type_or_name if isinstance(type_or_name, str) else qualified_name(type_or_name)
        self._builders[key] = builder

    def register_resolver(self, prefix, resolver):
        """Register ``resolver`` for typenames starting with ``prefix``."""
        self._resolvers[prefix] = resolver
        self._by_typename.clear()

    def find_builder(self, value):
        """The builder for ``value``'s class or nearest base, or ``None``."""
        for cls in type(value).__mro__:
            builder = self._builders.get(qualified_name(cls))
            if builder is not None:
                return builder
        return None

    def find_resolver(self, typename):
        """The resolver of the longest registered prefix of ``typename``, or ``None``."""
        found = self._by_typename.get(typename)
        if found is None:
            found = self._find_resolver(typename)
            if found is not None and len(self._by_typename) < 4096:
                self._by_typename[typename] = found
        return found

    def _find_resolver(self, typename):
        best = None
        for prefix, resolver in self._resolvers.items():
            if typename.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, resolver)
        return None if best is None else best[1]

    def build(self, client, value, **kwargs):
        """Store ``value`` with its builder."""
        builder = self.find_builder(value)
        if builder is None:
            raise VineyardTypeError(
                "cannot put a %s: no builder for it (supported: numpy arrays, pandas DataFrames/Series/Index, "
                "pyarrow Tables/RecordBatches/arrays, bytes-like values, bool/int/float/str, tuples and lists of these)"
                % qualified_name(type(value))
            )
        return builder(client, value, **kwargs)

    def resolve(self, client, meta, **kwargs):
        """Read the object ``meta`` with its resolver."""
        typename = meta.typename
        if not typename:
            raise VineyardTypeError("object %s has no typename" % (meta.id,))
        resolver = self.find_resolver(typename)
        if resolver is None:
            raise VineyardTypeError(
                "no reader for typename %r (object %s); use get_meta() to read its metadata"
                % (typename, meta.id)
            )
        return resolver(client, meta, **kwargs)


#: the default registry used by ``IPCClient.put``/``get``.
registry = Registry()

# numpy
registry.register_builder("numpy.ndarray", _lazy("tensor", "build_tensor"))
registry.register_resolver("vineyard::Tensor", _lazy("tensor", "resolve_tensor"))
registry.register_resolver("vineyard::Array", _lazy("tensor", "resolve_array"))

# blobs and scalars (standard library only)
for _cls in (bytes, bytearray, memoryview):
    registry.register_builder(_cls, _lazy("basic", "build_bytes"))
for _cls in (bool, int, float, str):
    registry.register_builder(_cls, _lazy("basic", "build_scalar"))
registry.register_resolver("vineyard::Blob", _lazy("basic", "resolve_blob"))
registry.register_resolver("vineyard::Scalar", _lazy("basic", "resolve_scalar"))
for _cls in (tuple, list):
    registry.register_builder(_cls, _lazy("basic", "build_elements"))
for _typename in ("vineyard::Tuple", "vineyard::Sequence", "vineyard::Pair"):
    registry.register_resolver(_typename, _lazy("basic", "resolve_elements"))

# pandas
registry.register_builder("pandas.DataFrame", _lazy("dataframe", "build_dataframe"))
registry.register_resolver("vineyard::DataFrame", _lazy("dataframe", "resolve_dataframe"))
registry.register_resolver("vineyard::Index", _lazy("dataframe", "resolve_index"))
registry.register_builder("pandas.Series", _lazy("dataframe", "build_series"))
registry.register_resolver("vineyard::Series", _lazy("dataframe", "resolve_series"))
registry.register_builder("pandas.Index", _lazy("dataframe", "build_index"))

# pyarrow
registry.register_builder("pyarrow.Table", _lazy("arrow", "build_table"))
registry.register_builder("pyarrow.RecordBatch", _lazy("arrow", "build_record_batch"))
registry.register_builder("pyarrow.Array", _lazy("arrow", "build_array"))
registry.register_builder("pyarrow.ChunkedArray", _lazy("arrow", "build_array"))
registry.register_builder("pyarrow.Schema", _lazy("arrow", "build_schema"))
registry.register_resolver("vineyard::Table", _lazy("arrow", "resolve_table"))
registry.register_resolver("vineyard::Hashmap", _lazy("hashmap", "resolve_hashmap"))
registry.register_resolver("vineyard::GlobalTensor", _lazy("global_objects", "resolve_global"))
registry.register_resolver("vineyard::GlobalDataFrame", _lazy("global_objects", "resolve_global"))
registry.register_resolver("vineyard::RecordBatch", _lazy("arrow", "resolve_record_batch"))
registry.register_resolver("vineyard::SchemaProxy", _lazy("arrow", "resolve_schema"))
registry.register_resolver("vineyard::NumericArray", _lazy("arrow", "resolve_array"))
registry.register_resolver("vineyard::BooleanArray", _lazy("arrow", "resolve_array"))
registry.register_resolver("vineyard::StringArray", _lazy("arrow", "resolve_array"))
registry.register_resolver("vineyard::LargeStringArray", _lazy("arrow", "resolve_array"))
registry.register_resolver("vineyard::BaseBinaryArray", _lazy("arrow", "resolve_array"))
registry.register_resolver("vineyard::FixedSizeBinaryArray", _lazy("arrow", "resolve_array"))
registry.register_resolver("vineyard::BaseListArray", _lazy("arrow", "resolve_array"))
registry.register_resolver("vineyard::ListArray", _lazy("arrow", "resolve_array"))
registry.register_resolver("vineyard::LargeListArray", _lazy("arrow", "resolve_array"))
registry.register_resolver("vineyard::FixedSizeListArray", _lazy("arrow", "resolve_array"))
registry.register_resolver("vineyard::NullArray", _lazy("arrow", "resolve_array"))

# property graphs (vineyard_java.graph)


def _graph(attr):
    def call(*args, **kwargs):
        from .. import graph

        return getattr(graph, attr)(*args, **kwargs)

    call.__name__ = attr
    return call


registry.register_resolver("vineyard::ArrowFragmentGroup", _graph("resolve_group"))
registry.register_resolver("vineyard::ArrowFragment<", _graph("resolve_fragment"))
