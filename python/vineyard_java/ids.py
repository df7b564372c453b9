"""Object identifiers.

Ids are unsigned 64-bit integers.  On the wire they are JSON numbers; inside metadata they
are strings ``"o%016x"``.  A blob id has its most significant bit set.
"""

__all__ = [
    "ObjectID",
    "EMPTY_BLOB_ID",
    "INVALID_OBJECT_ID",
    "object_id",
    "id_to_string",
    "string_to_id",
    "is_blob_id",
]

#: the shared id of every size-0 blob (``EmptyBlobID``).
EMPTY_BLOB_ID = 0x8000000000000000
#: ``InvalidObjectID`` (also the invalid signature and the unspecified instance id).
INVALID_OBJECT_ID = 0xFFFFFFFFFFFFFFFF

_MASK = 0xFFFFFFFFFFFFFFFF


def id_to_string(value):
    """``0x1234`` -> ``"o0000000000001234"``."""
    return "o%016x" % value


def string_to_id(text):
    """Parse ``"o…"`` (or ``"s…"``/``"S…"`` or bare hex) into an int."""
    if not isinstance(text, str) or not text:
        raise TypeError("an object id string must be a non-empty str, got %r" % (text,))
    body = text[1:] if text[0] in "osS" else text
    try:
        value = int(body, 16)
    except ValueError:
        raise ValueError("not an object id: %r" % (text,)) from None
    if not 0 <= value <= _MASK:
        raise ValueError("object id out of the uint64 range: %r" % (text,))
    return value


def is_blob_id(value):
    """True when ``value`` is a blob id (most significant bit set)."""
    return (int(value) >> 63) & 1 == 1


class ObjectID(int):
    """An object id: an ``int`` that prints as vineyard does (``o%016x``).

    ``json.dumps`` writes it as a plain number, which is what the wire protocol wants.
    """

    __slots__ = ()

    def __new__(cls, value):
        if isinstance(value, ObjectID):
            return value
        if isinstance(value, bool):
            raise TypeError("an object id cannot be a bool")
        if isinstance(value, int):
            if not 0 <= value <= _MASK:
                raise ValueError("object id out of the uint64 range: %d" % value)
            return int.__new__(cls, value)
        if isinstance(value, str):
            return int.__new__(cls, string_to_id(value))
        raise TypeError("cannot make an object id from %s" % type(value).__name__)

    @property
    def is_blob(self):
        """True for blob ids."""
        return is_blob_id(self)

    def __str__(self):
        return id_to_string(self)

    def __repr__(self):
        return "ObjectID(%s)" % id_to_string(self)


def object_id(value):
    """Coerce ``value`` into an :class:`ObjectID`.

    Accepts ints, ``"o…"`` strings, and anything with an ``id`` attribute that is one of those
    (an :class:`~vineyard_java.object_meta.ObjectMeta`, a sealed blob writer...).
    """
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return ObjectID(value)
    inner = getattr(value, "id", None)
    if inner is not None and not callable(inner):
        return ObjectID(inner)
    raise TypeError(
        "expected an object id (int, 'o…' string or ObjectMeta), got %s" % type(value).__name__
    )
