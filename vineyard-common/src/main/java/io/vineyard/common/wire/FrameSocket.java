package io.vineyard.common.wire;

import io.vineyard.common.posix.Posix;
import io.vineyard.common.posix.PosixException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One stream socket (UNIX or TCP) on a raw fd, read and written in vineyard frames ({@link WireFormat}),
 * with SCM_RIGHTS fd passing.
 *
 * <p>Not thread-safe: one thread reads and writes at a time. {@link #shutdown()} may be called from any
 * thread to wake a blocked reader; {@link #close()} belongs to the owning thread. In {@code exact} mode
 * the socket never reads past the end of the current frame, so the one-byte fd messages that follow a
 * reply are left for {@link #receiveFd()} (clients need this; the daemon reads ahead).
 */
public final class FrameSocket implements AutoCloseable {
    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int INITIAL_BUFFER = 64 * 1024;
    /** Frames larger than the write buffer go out through a scratch buffer freed right after. */
    private static final int WRITE_BUFFER = INITIAL_BUFFER;

    private final int fd;
    private final boolean exact;
    /** How to wait on a non-blocking fd, or null for a blocking one. */
    private final IoWait ioWait;
    private final Arena arena;
    private final MemorySegment readBuffer;
    private int readPos;
    private int readLimit;
    private final MemorySegment writeBuffer;
    private final MemorySegment pollfd;
    private volatile boolean closed;

    /** A socket any thread may use, one at a time (clients). */
    public FrameSocket(int fd, boolean exact) {
        this(fd, exact, Arena.ofShared(), null);
    }

    /**
     * A socket only the calling thread uses and closes (the daemon's connection threads): its
     * buffers live in a confined arena, whose close costs nothing, where a shared arena's close
     * stops every thread of the JVM for a handshake.
     */
    public static FrameSocket confined(int fd, boolean exact) {
        return new FrameSocket(fd, exact, Arena.ofConfined(), null);
    }

    /**
     * As {@link #confined(int, boolean)}, over a non-blocking fd: where a read or write would block,
     * the thread waits through {@code ioWait} (the daemon parks its virtual threads there).
     */
    public static FrameSocket confinedNonBlocking(int fd, boolean exact, IoWait ioWait) {
        return new FrameSocket(fd, exact, Arena.ofConfined(), ioWait);
    }

    private FrameSocket(int fd, boolean exact, Arena arena, IoWait ioWait) {
        this.fd = fd;
        this.exact = exact;
        this.arena = arena;
        this.ioWait = ioWait;
        this.readBuffer = arena.allocate(INITIAL_BUFFER, 64);
        this.writeBuffer = arena.allocate(WRITE_BUFFER, 64);
        this.pollfd = arena.allocate(8, 4);
        pollfd.set(ValueLayout.JAVA_INT, 0, fd);
        pollfd.set(ValueLayout.JAVA_SHORT, 4, (short) Posix.POLLIN);
    }

    /**
     * Busy-waits up to {@code spinNanos} for the next bytes to arrive, so that a reader about to block
     * can skip the wake-up (on this 2-vCPU KVM guest a cross-core wake-up costs 20-40 us, a spin finds a
     * request or reply that arrives within it at once). The spin also stops as soon as
     * {@code keepSpinning} says the CPU is wanted elsewhere. Returns true when bytes are ready (or buffered).
     */
    public boolean spinUntilReadable(long spinNanos, java.util.function.BooleanSupplier keepSpinning) {
        if (readLimit > readPos) {
            return true;
        }
        long deadline = System.nanoTime() + spinNanos;
        do {
            int n = Posix.poll(pollfd, 0);
            if (n != 0) {
                return n > 0;
            }
            Thread.onSpinWait();
        } while (System.nanoTime() < deadline && keepSpinning.getAsBoolean());
        return false;
    }

    public int fd() {
        return fd;
    }

    /**
     * Reads one frame body.
     *
     * @return the body, or {@code null} when the peer closed cleanly between frames
     * @throws FrameException on an oversized length or a close mid-frame
     * @throws PosixException when the socket fails (a reset, a receive timeout: errno EAGAIN)
     */
    public byte[] readFrame() {
        if (!fill(WireFormat.HEADER_BYTES, WireFormat.HEADER_BYTES, true)) {
            return null;
        }
        long length = readBuffer.get(LE_LONG, readPos);
        readPos += WireFormat.HEADER_BYTES;
        if (length < 0 || length > WireFormat.MAX_FRAME_BYTES) {
            throw new FrameException("declared frame length " + Long.toUnsignedString(length)
                    + " exceeds the limit of " + WireFormat.MAX_FRAME_BYTES + " bytes");
        }
        int len = (int) length;
        // grow the body as bytes arrive, so a peer declaring 256 MiB and sending nothing costs nothing
        byte[] body = new byte[Math.min(len, INITIAL_BUFFER)];
        int got = 0;
        while (got < len) {
            if (readPos == readLimit && !fill(1, len - got, false)) {
                throw new FrameException("connection closed after " + got + " of " + len + " body bytes");
            }
            int n = Math.min(len - got, readLimit - readPos);
            if (got + n > body.length) {
                body = Arrays.copyOf(body, (int) Math.min(len, Math.max((long) body.length * 2, got + n)));
            }
            MemorySegment.copy(readBuffer, ValueLayout.JAVA_BYTE, readPos, body, got, n);
            readPos += n;
            got += n;
        }
        return body;
    }

    /**
     * Makes at least {@code need} unread bytes available, reading at most {@code upTo} in exact mode
     * (the rest of the current frame) and as much as fits otherwise; false on EOF before any byte of
     * them when {@code eofOk}.
     */
    private boolean fill(int need, int upTo, boolean eofOk) {
        if (readLimit - readPos >= need) {
            return true;
        }
        if (readPos > 0) {
            int left = readLimit - readPos;
            MemorySegment.copy(readBuffer, readPos, readBuffer, 0, left);
            readLimit = left;
            readPos = 0;
        }
        int startedWith = readLimit;
        while (readLimit < need) {
            long room = readBuffer.byteSize() - readLimit;
            long want = exact ? Math.min(room, Math.max(need, upTo) - readLimit) : room;
            long n = Posix.read(fd, readBuffer.asSlice(readLimit), want);
            if (n < 0) {
                if (wouldBlock()) {
                    ioWait.readable(fd);
                    continue;
                }
                throw Posix.error("read from socket");
            }
            if (n == 0) {
                if (eofOk && startedWith == 0 && readLimit == 0) {
                    return false;
                }
                if (eofOk) {
                    throw new FrameException("connection closed after " + readLimit + " of "
                            + need + " header bytes");
                }
                return false;
            }
            readLimit += (int) n;
        }
        return true;
    }

    /**
     * Writes one frame with {@code body} as its body. A frame that does not fit the fixed write
     * buffer goes through a scratch buffer freed as soon as it is sent, so one large reply does not
     * pin its size for the rest of the connection.
     */
    public void writeFrame(byte[] body) {
        int total = WireFormat.HEADER_BYTES + body.length;
        if (total <= writeBuffer.byteSize()) {
            writeBuffer.set(LE_LONG, 0, body.length);
            MemorySegment.copy(body, 0, writeBuffer, ValueLayout.JAVA_BYTE, WireFormat.HEADER_BYTES, body.length);
            sendAll(writeBuffer, total);
            return;
        }
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment big = scratch.allocate(total, 64);
            big.set(LE_LONG, 0, body.length);
            MemorySegment.copy(body, 0, big, ValueLayout.JAVA_BYTE, WireFormat.HEADER_BYTES, body.length);
            sendAll(big, total);
        }
    }

    /** Bytes of native buffer this socket keeps between frames (tests: it never grows). */
    public long retainedBufferBytes() {
        return readBuffer.byteSize() + writeBuffer.byteSize();
    }

    /** Writes one frame whose body is the bytes of a native segment (binary frames: zstd chunks). */
    public void writeFrame(MemorySegment body) {
        writeBuffer.set(LE_LONG, 0, body.byteSize());
        sendAll(writeBuffer, WireFormat.HEADER_BYTES);
        sendAll(body, body.byteSize());
    }

    /** Writes raw bytes with no framing (tests and probes). */
    public void writeRaw(byte[] bytes) {
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment seg = scratch.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
            sendAll(seg, bytes.length);
        }
    }

    /** Writes the bytes of a native segment, unframed (bulk blob payloads). */
    public void writeSegment(MemorySegment data) {
        sendAll(data, data.byteSize());
    }

    /** Reads exactly {@code data.byteSize()} unframed bytes into a native segment (bulk blob payloads). */
    public void readSegment(MemorySegment data) {
        long off = 0;
        long size = data.byteSize();
        int buffered = Math.min(readLimit - readPos, (int) Math.min(Integer.MAX_VALUE, size));
        if (buffered > 0) {
            MemorySegment.copy(readBuffer, readPos, data, 0, buffered);
            readPos += buffered;
            off = buffered;
        }
        while (off < size) {
            long n = Posix.read(fd, data.asSlice(off), size - off);
            if (n < 0) {
                if (wouldBlock()) {
                    ioWait.readable(fd);
                    continue;
                }
                throw Posix.error("read from socket");
            }
            if (n == 0) {
                throw new FrameException("connection closed after " + off + " of " + size + " payload bytes");
            }
            off += n;
        }
    }

    private void sendAll(MemorySegment data, long total) {
        long off = 0;
        while (off < total) {
            long n = Posix.send(fd, data.asSlice(off), total - off);
            if (n < 0) {
                if (wouldBlock()) {
                    ioWait.writable(fd);
                    continue;
                }
                throw Posix.error("write to socket");
            }
            off += n;
        }
    }

    /** True when the last call failed only because the non-blocking fd was not ready. */
    private boolean wouldBlock() {
        return ioWait != null && Posix.errno() == Posix.EAGAIN;
    }

    /** Passes {@code fdToSend} to the peer with one {@link WireFormat#FD_TAG} byte. */
    public void sendFd(int fdToSend) {
        try (Arena scratch = Arena.ofConfined()) {
            while (Posix.sendFd(fd, fdToSend, WireFormat.FD_TAG, scratch) < 0) {
                if (!wouldBlock()) {
                    throw Posix.error("sendmsg(SCM_RIGHTS)");
                }
                ioWait.writable(fd);
            }
        }
    }

    /** Receives one passed fd (exact mode only). */
    public int receiveFd() {
        if (!exact) {
            throw new IllegalStateException("fds can only be received on an exact-mode socket");
        }
        try (Arena scratch = Arena.ofConfined()) {
            int received = Posix.recvFd(fd, scratch);
            if (received < 0) {
                throw new PosixException("expected an fd from the peer, got a byte without one", 0);
            }
            return received;
        }
    }

    /** Wakes any blocked reader and makes further I/O fail; safe from any thread. */
    public void shutdown() {
        if (!closed) {
            Posix.shutdown(fd);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Posix.close(fd);
        arena.close();
    }
}
