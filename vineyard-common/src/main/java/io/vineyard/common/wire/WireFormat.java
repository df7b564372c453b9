package io.vineyard.common.wire;

/**
 * vineyard's framing, identical on the UNIX socket and on TCP.
 *
 * <pre>
 *   +--------------------------------+------------------------------+
 *   | length: u64, little-endian (8) | body: UTF-8 JSON, length B   |
 *   +--------------------------------+------------------------------+
 *   after a reply that hands out a new store fd, one more message per fd:
 *   +------------------+   with SCM_RIGHTS ancillary data holding exactly one fd
 *   | 0x14 (1 byte)    |
 *   +------------------+
 * </pre>
 *
 * Binary frames (zstd chunks of remote blobs) use the same length prefix with a non-JSON body.
 */
public final class WireFormat {
    /** Bytes of the length prefix. */
    public static final int HEADER_BYTES = 8;
    /** Largest body a peer may declare: vineyard's {@code MESSAGE_HEADER_LIMIT}. Longer ones close the connection. */
    public static final long MAX_FRAME_BYTES = 256L << 20;
    /** The data byte sent with each passed fd. */
    public static final byte FD_TAG = 0x14;

    private WireFormat() {
    }
}
