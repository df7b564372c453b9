"""vineyard_java: a pure-Python client for vineyard-java (wire-compatible with Vineyard 0.24.4).

Only the standard library is required (``socket.recv_fds`` for the store fds, ``mmap`` for
the shared memory).  numpy, pandas and pyarrow are used when installed::

    import numpy as np
    import vineyard_java as vj

    with vj.connect("/tmp/vineyard.sock") as client:
        oid = client.put(np.arange(10))
        array = client.get(oid)          # a read-only view of the shared memory
"""

from .blob import BlobWriter, Payload
from .base import BaseClient
from .client import DEFAULT_SOCKET_ENV, IPCClient, connect, default_socket
from .errors import (
    AssertionFailed,
    EndOfFile,
    InvalidError,
    MetaTreeError,
    NotEnoughMemory,
    ObjectExists,
    ObjectIsBlob,
    ObjectNotExists,
    ObjectNotSealed,
    ObjectSealed,
    ObjectTypeError,
    ProtocolError,
    ServerNotReady,
    InvalidStreamState,
    StreamDrained,
    StreamFailed,
    StreamOpened,
    UserInputError,
    VineyardConnectionError,
    VineyardError,
    VineyardIOError,
    VineyardKeyError,
    VineyardNotImplemented,
    VineyardTimeoutError,
    VineyardTypeError,
)
from .ids import EMPTY_BLOB_ID, INVALID_OBJECT_ID, ObjectID, object_id
from .object_meta import ObjectMeta, from_json, to_json
from .protocol import PROTOCOL_VERSION
from .rpc import RemoteBlobWriter, RPCClient, connect_rpc

__version__ = "0.1.0"

__all__ = [
    "connect",
    "default_socket",
    "BaseClient",
    "IPCClient",
    "RPCClient",
    "RemoteBlobWriter",
    "connect_rpc",
    "BlobWriter",
    "Payload",
    "ObjectMeta",
    "ObjectID",
    "object_id",
    "to_json",
    "from_json",
    "EMPTY_BLOB_ID",
    "INVALID_OBJECT_ID",
    "DEFAULT_SOCKET_ENV",
    "PROTOCOL_VERSION",
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
    "InvalidStreamState",
    "StreamDrained",
    "StreamFailed",
    "StreamOpened",
    "VineyardConnectionError",
    "VineyardTimeoutError",
    "NotEnoughMemory",
    "ProtocolError",
]
