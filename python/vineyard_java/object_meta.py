"""``ObjectMeta``: an object's metadata tree, with vineyard's encodings.

The client-visible form of an object is a JSON tree.  Reserved keys are ``id`` (``"o…"``),
``typename``, ``instance_id``, ``signature``, ``transient``, ``global`` and ``nbytes``;
a member is a nested object (a dict with a ``typename``, or only an ``id`` for a
placeholder).  Scalars are stored as JSON scalars, while vectors, tuples, sets, maps and
other JSON values are stored as **a JSON string holding JSON**, e.g. ``"shape_": "[100]"``
(``ObjectMeta::AddKeyValue``).  Assigning a list, tuple, set or plain dict here encodes it
that way; :meth:`ObjectMeta.get_json` decodes it.
"""

import json

from .ids import EMPTY_BLOB_ID, ObjectID, id_to_string, is_blob_id, object_id

__all__ = ["ObjectMeta", "to_json", "from_json", "BLOB_TYPENAME"]

BLOB_TYPENAME = "vineyard::Blob"


def _json_default(value):
    # numpy scalars and arrays, without importing numpy
    item = getattr(value, "item", None)
    tolist = getattr(value, "tolist", None)
    if tolist is not None and getattr(value, "ndim", 0) > 0:
        return tolist()
    if item is not None:
        return item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError("%s is not JSON serialisable" % type(value).__name__)


def to_json(value):
    """Encode ``value`` the way vineyard stores vectors and maps: a JSON string."""
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def from_json(value):
    """Decode a JSON-in-string value; non-strings (as C++ may store) pass through."""
    if isinstance(value, (str, bytes, bytearray)):
        return json.loads(value)
    return value


def _is_member_dict(value):
    return isinstance(value, dict) and ("typename" in value or set(value) == {"id"})


class ObjectMeta:
    """Metadata of one object: a mapping of keys to values and members.

    ``meta["shape_"] = (2, 3)`` stores ``"[2,3]"``; ``meta.get_json("shape_")`` gives
    ``[2, 3]`` back.  ``meta.add_member("buffer_", x)`` accepts another ``ObjectMeta``
    (nested by value), a blob writer, or an id (a blob id becomes a blob entry, any other id a
    placeholder ``{"id": "o…"}`` that the daemon resolves).
    """

    def __init__(self, typename=None, **values):
        self._tree = {}
        if typename is not None:
            self._tree["typename"] = typename
        for key, value in values.items():
            self[key] = value

    # -- construction from / to the wire form ---------------------------------------------

    @classmethod
    def from_dict(cls, tree):
        """Build from a metadata JSON tree (nested member dicts become ``ObjectMeta``)."""
        if not isinstance(tree, dict):
            raise TypeError("metadata must be a JSON object, got %s" % type(tree).__name__)
        meta = cls.__new__(cls)
        out = meta._tree = {}
        for key, value in tree.items():
            if isinstance(value, dict) and ("typename" in value or (len(value) == 1 and "id" in value)):
                out[key] = cls.from_dict(value)
            else:
                out[key] = value
        return meta

    def to_dict(self):
        """The JSON tree, members included, as sent in ``create_data_request``."""
        out = {}
        for key, value in self._tree.items():
            out[key] = value.to_dict() if isinstance(value, ObjectMeta) else value
        return out

    def copy(self):
        """A deep copy."""
        return ObjectMeta.from_dict(self.to_dict())

    # -- mapping interface ---------------------------------------------------------------

    def __getitem__(self, key):
        return self._tree[key]

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError("metadata keys are strings, got %s" % type(key).__name__)
        if isinstance(value, ObjectMeta):
            self._tree[key] = value
        elif isinstance(value, (list, tuple, set, frozenset)) or (
            isinstance(value, dict) and not _is_member_dict(value)
        ):
            self._tree[key] = to_json(value)
        elif isinstance(value, dict):
            self._tree[key] = ObjectMeta.from_dict(value)
        elif value is None or isinstance(value, (str, bool, int, float)):
            self._tree[key] = value.item() if hasattr(value, "item") else value
        elif hasattr(value, "item") and getattr(value, "ndim", 0) == 0:  # numpy scalar
            self._tree[key] = value.item()
        else:
            raise TypeError(
                "metadata value for %r must be a JSON scalar, a list/tuple/dict (stored as a JSON "
                "string) or an ObjectMeta, not %s" % (key, type(value).__name__)
            )

    def __delitem__(self, key):
        del self._tree[key]

    def __contains__(self, key):
        return key in self._tree

    def __iter__(self):
        return iter(self._tree)

    def __len__(self):
        return len(self._tree)

    def get(self, key, default=None):
        """``meta[key]`` or ``default``."""
        return self._tree.get(key, default)

    def keys(self):
        return self._tree.keys()

    def items(self):
        return self._tree.items()

    def values(self):
        return self._tree.values()

    def get_json(self, key, default=None):
        """Decode a JSON-in-string value (``"[100]"`` -> ``[100]``)."""
        if key not in self._tree:
            return default
        return from_json(self._tree[key])

    def __eq__(self, other):
        if isinstance(other, ObjectMeta):
            return self.to_dict() == other.to_dict()
        return NotImplemented

    def __repr__(self):
        return "ObjectMeta(%s)" % json.dumps(self.to_dict(), indent=None, default=str)

    # -- reserved keys ---------------------------------------------------------------------

    @property
    def id(self):
        """The object's :class:`~vineyard_java.ids.ObjectID`, or ``None`` before creation."""
        value = self._tree.get("id")
        return None if value is None else ObjectID(value)

    @id.setter
    def id(self, value):
        self._tree["id"] = id_to_string(object_id(value))

    @property
    def typename(self):
        """The C++-style type name, e.g. ``vineyard::Tensor<double>``."""
        return self._tree.get("typename")

    @typename.setter
    def typename(self, value):
        self._tree["typename"] = value

    @property
    def signature(self):
        """The signature (an int) or ``None``."""
        value = self._tree.get("signature")
        if isinstance(value, str):
            return ObjectID(value)
        return value

    @property
    def instance_id(self):
        """The instance the object lives on, or ``None``."""
        return self._tree.get("instance_id")

    @property
    def nbytes(self):
        """``nbytes`` (0 when absent)."""
        return self._tree.get("nbytes", 0)

    @property
    def transient(self):
        """True unless the object was persisted."""
        return bool(self._tree.get("transient", True))

    @property
    def is_persistent(self):
        """True once the object was persisted."""
        return not self.transient

    @property
    def is_global(self):
        """True for global objects."""
        return bool(self._tree.get("global", False))

    def set_global(self, value=True):
        """Mark the object global (its members may then live on other instances)."""
        self._tree["global"] = bool(value)

    @property
    def is_blob(self):
        """True for ``vineyard::Blob`` entries."""
        value = self._tree.get("id")
        return self.typename == BLOB_TYPENAME or (value is not None and is_blob_id(ObjectID(value)))

    @property
    def is_placeholder(self):
        """True for a member given by id only, not yet resolved by the daemon."""
        return set(self._tree) == {"id"}

    @property
    def name(self):
        """The name put on the object (``__name``), or ``None``."""
        return self._tree.get("__name")

    @property
    def labels(self):
        """The labels (``__labels`` is a JSON-encoded map)."""
        raw = self._tree.get("__labels")
        return {} if raw is None else from_json(raw)

    # -- members ---------------------------------------------------------------------------

    def add_member(self, name, value):
        """Add member ``name``: an ``ObjectMeta``, a blob writer, or an object/blob id."""
        if isinstance(value, ObjectMeta):
            self._tree[name] = value
            return
        as_member = getattr(value, "as_member", None)
        if callable(as_member):  # a BlobWriter (sealed now unless a put seals it later)
            self._tree[name] = as_member()
            return
        oid = object_id(value)
        if oid.is_blob:
            entry = ObjectMeta.from_dict(
                {"id": id_to_string(oid), "typename": BLOB_TYPENAME, "transient": True}
            )
            if oid == EMPTY_BLOB_ID:
                entry._tree.update({"length": 0, "nbytes": 0})
            self._tree[name] = entry
        else:
            self._tree[name] = ObjectMeta.from_dict({"id": id_to_string(oid)})

    def has_member(self, name):
        """True when ``name`` is a member (not a plain value)."""
        return isinstance(self._tree.get(name), ObjectMeta)

    def member(self, name):
        """The member ``name`` as an ``ObjectMeta``."""
        value = self._tree.get(name)
        if not isinstance(value, ObjectMeta):
            if name not in self._tree:
                raise KeyError("%s has no member %r" % (self.typename or "object", name))
            raise KeyError("%r of %s is a value, not a member" % (name, self.typename or "object"))
        return value

    def members(self):
        """``{name: ObjectMeta}`` of the direct members."""
        return {k: v for k, v in self._tree.items() if isinstance(v, ObjectMeta)}

    def walk(self):
        """Yield this meta and every member below it, depth first (parents first)."""
        yield self
        for value in self._tree.values():
            if isinstance(value, ObjectMeta):
                yield from value.walk()

    def blob_ids(self):
        """The ids of every blob in the tree, in tree order, without duplicates."""
        seen = []
        for node in self.walk():
            if node.is_blob and node.id is not None and node.id not in seen:
                seen.append(node.id)
        return seen
