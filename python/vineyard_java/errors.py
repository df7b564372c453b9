"""Exceptions of the client, mapped from vineyard's status codes.

Every error the daemon reports arrives as ``{"code": N, "message": "..."}`` (no ``type``
field).  :func:`error_from_reply` turns such a reply into the matching exception class, so a
caller can catch e.g. :class:`ObjectNotExists` whatever request produced it.

The classes also derive from the closest built-in exception where that helps ordinary Python
code: :class:`ObjectNotExists` is a :class:`KeyError`, :class:`InvalidError` a
:class:`ValueError`, :class:`VineyardConnectionError` a :class:`ConnectionError`, and so on.
"""

import re

__all__ = [
    "VineyardError",
    "InvalidError",
    "VineyardKeyError",
    "VineyardTypeError",
    "VineyardIOError",
    "EndOfFile",
    "VineyardNotImplemented",
    "AssertionFailed",
    "UserInputError",
    "ObjectExists",
    "ObjectNotExists",
    "ObjectSealed",
    "ObjectNotSealed",
    "ObjectIsBlob",
    "ObjectTypeError",
    "MetaTreeError",
    "ServerNotReady",
    "VineyardConnectionError",
    "VineyardTimeoutError",
    "NotEnoughMemory",
    "ProtocolError",
    "STATUS_NAMES",
    "error_from_reply",
]

#: vineyard's status codes (``src/common/util/status.h``) and their names.
STATUS_NAMES = {
    0: "OK",
    1: "Invalid",
    2: "KeyError",
    3: "TypeError",
    4: "IOError",
    5: "EndOfFile",
    6: "NotImplemented",
    7: "AssertionFailed",
    8: "UserInputError",
    11: "ObjectExists",
    12: "ObjectNotExists",
    13: "ObjectSealed",
    14: "ObjectNotSealed",
    15: "ObjectIsBlob",
    16: "ObjectTypeError",
    17: "ObjectSpilled",
    18: "ObjectNotSpilled",
    21: "MetaTreeInvalid",
    22: "MetaTreeTypeInvalid",
    23: "MetaTreeTypeNotExists",
    24: "MetaTreeNameInvalid",
    25: "MetaTreeNameNotExists",
    26: "MetaTreeLinkInvalid",
    27: "MetaTreeSubtreeNotExists",
    31: "VineyardServerNotReady",
    32: "ArrowError",
    33: "ConnectionFailed",
    34: "ConnectionError",
    35: "EtcdError",
    36: "AlreadyStopped",
    37: "RedisError",
    41: "NotEnoughMemory",
    42: "StreamDrained",
    43: "StreamFailed",
    44: "InvalidStreamState",
    45: "StreamOpened",
    51: "GlobalObjectInvalid",
    255: "UnknownError",
}

_ID_IN_MESSAGE = re.compile(r"\bo([0-9a-fA-F]{16})\b")


class VineyardError(Exception):
    """Base class of every error raised by this client.

    ``code`` is vineyard's status code (``None`` for errors detected by the client itself)
    and ``message`` the daemon's text.
    """

    #: the status code this class stands for (``None``: raised by the client).
    default_code = None

    #: True when the daemon reported the error (its code is then shown by ``str()``).
    from_server = False

    def __init__(self, message="", code=None):
        self.code = self.default_code if code is None else code
        self.message = message
        super().__init__(message)

    def __str__(self):
        if self.code is None or not self.from_server:
            return self.message
        return "%s (vineyard status %d %s)" % (
            self.message,
            self.code,
            STATUS_NAMES.get(self.code, "?"),
        )


class InvalidError(VineyardError, ValueError):
    """Status 1 (Invalid): the daemon rejected the request as malformed or not allowed."""

    default_code = 1


class VineyardKeyError(VineyardError, KeyError):
    """Status 2 (KeyError)."""

    default_code = 2

    def __str__(self):  # KeyError.__str__ would repr() the message
        return VineyardError.__str__(self)


class VineyardTypeError(VineyardError, TypeError):
    """Status 3 (TypeError), also raised by the client for values it cannot store or read."""

    default_code = 3


class VineyardIOError(VineyardError, OSError):
    """Status 4 (IOError)."""

    default_code = 4


class EndOfFile(VineyardError, EOFError):
    """Status 5 (EndOfFile)."""

    default_code = 5


class VineyardNotImplemented(VineyardError, NotImplementedError):
    """Status 6 (NotImplemented)."""

    default_code = 6


class AssertionFailed(VineyardError, AssertionError):
    """Status 7 (AssertionFailed)."""

    default_code = 7


class UserInputError(VineyardError, ValueError):
    """Status 8 (UserInputError)."""

    default_code = 8


class ObjectExists(VineyardError):
    """Status 11 (ObjectExists)."""

    default_code = 11


class ObjectNotExists(VineyardError, KeyError):
    """Status 12 (ObjectNotExists), or an id/name the daemon does not know.

    ``object_id`` is the missing id when it is known (parsed from the daemon's message or
    given by the client), else ``None``.
    """

    default_code = 12

    def __init__(self, message="", code=None, object_id=None):
        super().__init__(message, code)
        if object_id is None:
            found = _ID_IN_MESSAGE.search(message or "")
            if found:
                object_id = int(found.group(1), 16)
        self.object_id = object_id

    def __str__(self):
        return VineyardError.__str__(self)


class ObjectSealed(VineyardError):
    """Status 13 (ObjectSealed)."""

    default_code = 13


class ObjectNotSealed(VineyardError):
    """Status 14 (ObjectNotSealed): the blob exists but its writer has not sealed it yet."""

    default_code = 14


class ObjectIsBlob(VineyardError):
    """Status 15 (ObjectIsBlob)."""

    default_code = 15


class ObjectTypeError(VineyardError, TypeError):
    """Status 16 (ObjectTypeError)."""

    default_code = 16


class MetaTreeError(VineyardError):
    """Statuses 21-26 (the metadata tree is inconsistent)."""


class MetaTreeSubtreeNotExists(ObjectNotExists):
    """Status 27: the daemon found no metadata under that id (e.g. persist of an unknown id)."""

    default_code = 27


class ServerNotReady(VineyardError):
    """Status 31 (VineyardServerNotReady)."""

    default_code = 31


class VineyardConnectionError(VineyardError, ConnectionError):
    """No daemon, a closed connection, a refused registration (status 33/34), or a client
    that was already closed."""

    default_code = None


class VineyardTimeoutError(VineyardError, TimeoutError):
    """A request got no reply within its timeout (e.g. ``get_name(wait=True, timeout=...)``).

    Raised by the client itself (``code`` is ``None``); it is a :class:`TimeoutError`.
    """


class NotEnoughMemory(VineyardError, MemoryError):
    """Status 41 (NotEnoughMemory): the shared-memory pool cannot hold the blob."""

    default_code = 41


class StreamDrained(VineyardError):
    """Status 42 (StreamDrained): the stream ended and every chunk was read."""

    default_code = 42


class StreamFailed(VineyardError):
    """Status 43 (StreamFailed): the writer aborted the stream or went away before finishing it."""

    default_code = 43


class InvalidStreamState(VineyardError):
    """Status 44 (InvalidStreamState): the request does not fit the stream's state (a write to a
    failed or stopped stream, a second waiting reader or writer)."""

    default_code = 44


class StreamOpened(VineyardError):
    """Status 45 (StreamOpened): the stream already has a reader (or a writer)."""

    default_code = 45


class ProtocolError(VineyardError):
    """The daemon answered something this client did not expect (wrong reply type, a
    missing field, a missing file descriptor)."""


_BY_CODE = {
    1: InvalidError,
    2: VineyardKeyError,
    3: VineyardTypeError,
    4: VineyardIOError,
    5: EndOfFile,
    6: VineyardNotImplemented,
    7: AssertionFailed,
    8: UserInputError,
    11: ObjectExists,
    12: ObjectNotExists,
    13: ObjectSealed,
    14: ObjectNotSealed,
    15: ObjectIsBlob,
    16: ObjectTypeError,
    21: MetaTreeError,
    22: MetaTreeError,
    23: MetaTreeError,
    24: MetaTreeError,
    25: MetaTreeError,
    26: MetaTreeError,
    27: MetaTreeSubtreeNotExists,
    31: ServerNotReady,
    33: VineyardConnectionError,
    34: VineyardConnectionError,
    41: NotEnoughMemory,
    42: StreamDrained,
    43: StreamFailed,
    44: InvalidStreamState,
    45: StreamOpened,
}


def error_from_reply(reply):
    """Build the exception for an error reply ``{"code": N, "message": ...}``."""
    code = reply.get("code")
    message = reply.get("message", "")
    if not isinstance(message, str):
        message = str(message)
    cls = _BY_CODE.get(code, VineyardError)
    exc = cls(message, code=code)
    exc.from_server = True
    return exc
