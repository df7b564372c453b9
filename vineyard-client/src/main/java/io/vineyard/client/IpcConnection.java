package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;
import io.vineyard.common.posix.PosixException;
import io.vineyard.common.wire.FrameException;
import io.vineyard.common.wire.FrameSocket;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A registered connection to a vineyardd, speaking vineyard's frames: one request, one reply, and the
 * store fds the reply introduces. Thread-safe (requests are serialised); {@link #close()} unmaps
 * every store mapping.
 *
 * <p>This is the transport the SDK's clients build on; it is usable on its own for raw protocol work.
 */
public final class IpcConnection implements AutoCloseable {
    /** Default receive timeout, as vineyard's client (300 s). */
    public static final long DEFAULT_TIMEOUT_MS = 300_000;

    private final FrameSocket socket;
    private final ReentrantLock lock = new ReentrantLock();
    /** This connection's busy-wait for replies (under {@link #lock}). */
    private final ReplySpin spin;
    /** Why the transport failed mid-request (a reply may be owed), or null: the connection is then unusable. */
    private volatile RuntimeException broken;
    private final StoreMappings mappings = new StoreMappings();
    private final ObjectNode registerReply;
    private final boolean tcp;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicLong framesWritten = new java.util.concurrent.atomic.AtomicLong();
    /** Replies owed for requests sent with {@link #send(ObjectNode)}; read before the next reply. */
    private int pendingReplies;
    /** {@link #send} reads the replies it has not waited for once this many are owed. */
    static final int MAX_PENDING_REPLIES = 64;
    /** Frames queued by {@link #sendDeferred}: written just before the next request's frame. */
    private final List<DeferredFrame> deferred = new ArrayList<>();
    /** {@link #sendDeferred} writes its queue out once it holds this many frames (bounds the client's memory). */
    static final int MAX_DEFERRED_FRAMES = 1024;
    /** The extension request types the daemon advertised in {@code register_reply.extensions}. */
    private final java.util.Set<String> extensions;
    /** Holders that need the mappings to outlive {@link #close()} (native views such as Arrow buffers). */
    private int mappingPins;
    private boolean unmapDeferred;

    private IpcConnection(FrameSocket socket, boolean tcp, long spinUs) {
        this.socket = socket;
        this.tcp = tcp;
        this.spin = new ReplySpin(spinUs);
        ObjectNode req = Json.object();
        req.put("type", "register_request");
        req.put("version", "0.24.4");
        req.put("store_type", 1);
        req.put("session_id", 0);
        req.put("username", "");
        req.put("password", "");
        this.registerReply = request(req);
        java.util.Set<String> advertised = new java.util.TreeSet<>();
        registerReply.path("extensions").forEach(t -> advertised.add(t.asText()));
        this.extensions = java.util.Collections.unmodifiableSet(advertised);
    }

    /**
     * The socket a client given none connects to: {@code VINEYARD_IPC_SOCKET} if set, else the daemon's
     * default ({@code $XDG_RUNTIME_DIR/vineyard/vineyard.sock}, else {@code ~/.local/vineyard/vineyard.sock}).
     */
    public static String defaultSocket() {
        return io.vineyard.common.DefaultSocket.forClient();
    }

    /**
     * Connects to the UNIX socket at {@code path} (or {@link #defaultSocket()} when null) and registers.
     *
     * @throws VineyardException.ConnectionError when nothing listens there
     */
    public static IpcConnection connect(String path) {
        return connect(path, DEFAULT_TIMEOUT_MS);
    }

    /** Connects with a receive timeout ({@code 0} waits forever) and the default reply spin. */
    public static IpcConnection connect(String path, long timeoutMs) {
        return connect(path, timeoutMs, ReplySpin.defaultSpinUs());
    }

    /**
     * Connects with a receive timeout and a reply busy-wait of {@code spinUs} microseconds (0 never spins,
     * at most 10 ms); the spin state is this connection's own.
     */
    public static IpcConnection connect(String path, long timeoutMs, long spinUs) {
        String target = path != null && !path.isEmpty() ? path : defaultSocket();
        int fd = Posix.socket(Posix.AF_UNIX, Posix.SOCK_STREAM);
        if (fd < 0) {
            throw new VineyardException.ConnectionError("socket(AF_UNIX) failed", Posix.error("socket"));
        }
        try (Arena arena = Arena.ofConfined()) {
            if (Posix.connect(fd, Posix.unixAddress(arena, target)) != 0) {
                PosixException e = Posix.error("connect to " + target);
                Posix.close(fd);
                throw new VineyardException.ConnectionError("cannot connect to vineyardd at " + target + ": "
                        + e.getMessage(), e);
            }
        } catch (IllegalArgumentException e) {
            Posix.close(fd);
            throw new VineyardException.ConnectionError("cannot connect to vineyardd at " + target, e);
        }
        return open(fd, timeoutMs, false, spinUs);
    }

    /** Connects to a daemon's RPC port on this machine or another ({@code host} as IPv4 literal or name). */
    public static IpcConnection connectTcp(String host, int port, long timeoutMs) {
        return connectTcp(host, port, timeoutMs, ReplySpin.defaultSpinUs());
    }

    /**
     * Like {@link #connectTcp(String, int, long)} with a reply busy-wait of {@code spinUs}. The socket has
     * {@code TCP_NODELAY}: requests are small frames that must leave at once, not wait for an ACK.
     */
    public static IpcConnection connectTcp(String host, int port, long timeoutMs, long spinUs) {
        byte[] addr;
        try {
            addr = java.net.InetAddress.getByName(host).getAddress();
        } catch (IOException e) {
            throw new VineyardException.ConnectionError("unknown host " + host, e);
        }
        if (addr.length != 4) {
            throw new VineyardException.ConnectionError(Status.CONNECTION_FAILED, "only IPv4 is supported: " + host);
        }
        int fd = Posix.socket(Posix.AF_INET, Posix.SOCK_STREAM);
        try (Arena arena = Arena.ofConfined()) {
            if (Posix.connect(fd, Posix.inetAddress(arena, addr, port)) != 0) {
                PosixException e = Posix.error("connect to " + host + ":" + port);
                Posix.close(fd);
                throw new VineyardException.ConnectionError("cannot connect to vineyardd at " + host + ":" + port, e);
            }
        }
        if (Posix.setIntOption(fd, Posix.IPPROTO_TCP, Posix.TCP_NODELAY, 1) != 0) {
            PosixException e = Posix.error("setsockopt(TCP_NODELAY) on the connection to " + host + ":" + port);
            Posix.close(fd);
            throw new VineyardException.ConnectionError(e.getMessage(), e);
        }
        return open(fd, timeoutMs, true, spinUs);
    }

    private static IpcConnection open(int fd, long timeoutMs, boolean tcp, long spinUs) {
        if (timeoutMs > 0) {
            Posix.setReceiveTimeout(fd, timeoutMs);
        }
        FrameSocket socket = new FrameSocket(fd, true);
        try {
            return new IpcConnection(socket, tcp, spinUs);
        } catch (RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** The daemon's register reply (instance id, endpoints, version). */
    public ObjectNode registerReply() {
        return registerReply;
    }

    /**
     * The extension request types the daemon serves, from {@code register_reply.extensions} (sorted);
     * empty for vineyard's own vineyardd and for ours with {@code --noextensions}.
     */
    public java.util.Set<String> extensions() {
        return extensions;
    }

    /**
     * Sends a request and returns its reply; error replies throw the matching {@link VineyardException}.
     * New store fds named by the reply ({@code fd} / {@code fds}) are received and mapped.
     */
    public ObjectNode request(ObjectNode request) {
        lock.lock();
        try {
            ensureOpen();
            ObjectNode reply = exchange(Json.write(request));
            receiveFds(reply);
            return reply;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends {@code requests} back to back and reads their replies in order: one round trip for all.
     * Every reply is read, errors included, so the connection stays in step; then the first error
     * reply throws its {@link VineyardException} (the requests after it were still served).
     */
    public List<ObjectNode> requestAll(List<ObjectNode> requests) {
        lock.lock();
        try {
            ensureOpen();
            writeDeferred();
            List<ObjectNode> replies = new ArrayList<>(requests.size());
            VineyardException first = null;
            for (int written = 0; written < requests.size(); written++) {
                if (written - replies.size() >= MAX_PENDING_REPLIES) {
                    // as in send: thousands of requests unanswered would fill the socket both ways
                    first = readInto(replies, first);
                }
                framesWritten.incrementAndGet();
                socket.writeFrame(Json.write(requests.get(written)));
            }
            while (replies.size() < requests.size()) {
                first = readInto(replies, first);
            }
            if (first != null) {
                throw first;
            }
            return replies;
        } catch (PosixException | FrameException e) {
            throw failed(e);
        } finally {
            lock.unlock();
        }
    }

    /** Reads the next reply of {@link #requestAll} into {@code replies}; returns the first error so far. */
    private VineyardException readInto(List<ObjectNode> replies, VineyardException first) {
        drainPending();
        spin.beforeRead(socket);
        ObjectNode reply = readReply(false);
        VineyardException error = errorOf(reply);
        if (error == null) {
            receiveFds(reply);
        }
        replies.add(reply);
        return first != null ? first : error;
    }

    /** Sends a request and returns its raw reply (error replies included, fds not received). */
    public ObjectNode requestRaw(ObjectNode request) {
        lock.lock();
        try {
            ensureOpen();
            writeDeferred();
            drainPending();
            framesWritten.incrementAndGet();
            socket.writeFrame(Json.write(request));
            return readReply(false);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends a request whose reply carries nothing the caller needs (a release) without waiting for it:
     * the reply is read, and dropped, before the next reply. Saves a round trip.
     */
    public void send(ObjectNode request) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            writeDeferred();
            if (pendingReplies >= MAX_PENDING_REPLIES) {
                // the daemon writes every reply before it reads on: unread ones would fill the socket and
                // leave both sides blocked in a write (a failed put dropping thousands of blobs did)
                drainPending();
            }
            framesWritten.incrementAndGet();
            socket.writeFrame(Json.write(request));
            pendingReplies++;
        } catch (PosixException | FrameException e) {
            throw failed(e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues a one-way request (one the daemon does not answer, such as {@code release_buffers_request}
     * with {@code reply:false}): it is written right before the next request, so the daemon reads both in
     * one wake-up, or by {@link #flushDeferred()}.
     */
    public void sendDeferred(ObjectNode request) {
        sendDeferred(request, false);
    }

    /**
     * Queues a request like {@link #sendDeferred(ObjectNode)}; with {@code replyOwed} the daemon answers
     * it (a standard {@code release_request}) and the reply is read, and dropped, before the next reply,
     * as for {@link #send(ObjectNode)}: no round trip either way.
     */
    public void sendDeferred(ObjectNode request, boolean replyOwed) {
        lock.lock();
        try {
            if (!closed) {
                deferred.add(new DeferredFrame(Json.write(request), replyOwed));
                if (deferred.size() >= MAX_DEFERRED_FRAMES) {
                    writeDeferred();
                }
            }
        } catch (PosixException | FrameException e) {
            throw failed(e);
        } finally {
            lock.unlock();
        }
    }

    /** Writes the queued requests now, without waiting for their replies. */
    public void flushDeferred() {
        lock.lock();
        try {
            if (!closed) {
                writeDeferred();
            }
        } catch (PosixException | FrameException e) {
            throw failed(e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes the queued frames. Before each one the daemon answers, the replies owed are read once
     * {@link #MAX_PENDING_REPLIES} are pending, as {@link #send} does: thousands of queued releases
     * would otherwise fill both directions of the socket and leave both sides blocked in a write.
     */
    private void writeDeferred() {
        if (deferred.isEmpty()) {
            return;
        }
        try {
            for (DeferredFrame frame : deferred) {
                if (frame.replyOwed() && pendingReplies >= MAX_PENDING_REPLIES) {
                    drainPending();
                }
                framesWritten.incrementAndGet();
                socket.writeFrame(frame.bytes());
                if (frame.replyOwed()) {
                    pendingReplies++;
                }
            }
        } finally {
            deferred.clear();
        }
    }

    /** A request queued by {@link #sendDeferred}, and whether the daemon answers it. */
    private record DeferredFrame(byte[] bytes, boolean replyOwed) {}

    private void drainPending() {
        while (pendingReplies > 0) {
            pendingReplies--;
            try {
                spin.beforeRead(socket);
                readReply(false);
            } catch (PosixException | FrameException e) {
                throw failed(e);
            }
        }
    }

    /**
     * Sends a request followed by raw bytes ({@code create_remote_buffer(s)} over TCP): reads the first
     * acknowledgement, hands it to {@code afterAck}, writes {@code data} back to back, then reads the
     * final acknowledgement, which is returned.
     */
    public ObjectNode requestWithUpload(ObjectNode request, java.util.function.Consumer<ObjectNode> afterAck,
                                        List<MemorySegment> data) {
        lock.lock();
        try {
            ensureOpen();
            ObjectNode ack = exchange(Json.write(request));
            afterAck.accept(ack);
            for (MemorySegment d : data) {
                if (d.byteSize() > 0) {
                    socket.writeSegment(d);
                }
            }
            return readReply(true);
        } catch (PosixException | FrameException e) {
            throw failed(e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends a request whose reply is followed by raw bytes ({@code get_remote_buffers} over TCP):
     * {@code targets} maps the reply to the segments to fill, in order.
     */
    public ObjectNode requestWithDownload(ObjectNode request,
                                          java.util.function.Function<ObjectNode, List<MemorySegment>> targets) {
        lock.lock();
        try {
            ensureOpen();
            ObjectNode reply = exchange(Json.write(request));
            for (MemorySegment t : targets.apply(reply)) {
                if (t.byteSize() > 0) {
                    socket.readSegment(t);
                }
            }
            return reply;
        } catch (PosixException | FrameException e) {
            throw failed(e);
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code action} holding this connection's request lock (no other request interleaves). */
    public <T> T locked(java.util.function.Supplier<T> action) {
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    /** How many request frames this connection wrote so far (the round-trip counter). */
    public long framesWritten() {
        return framesWritten.get();
    }

    /** True when this connection talks TCP (no shared memory). */
    public boolean isTcp() {
        return tcp;
    }

    /**
     * Keeps the store mappings alive past {@link #close()} until the matching {@link #unpinMappings()}:
     * for views the JVM cannot bounds-check after unmapping (Arrow buffers hold raw addresses).
     */
    public void pinMappings() {
        lock.lock();
        try {
            if (closed && !unmapDeferred) {
                throw new VineyardException(Status.CONNECTION_ERROR, "the connection is closed");
            }
            mappingPins++;
        } finally {
            lock.unlock();
        }
    }

    /** Drops a pin taken with {@link #pinMappings()}; the last one after close unmaps. */
    public void unpinMappings() {
        lock.lock();
        try {
            mappingPins--;
            if (mappingPins == 0 && unmapDeferred) {
                unmapDeferred = false;
                mappings.close();
            }
        } finally {
            lock.unlock();
        }
    }

    /** This connection's reply spin: its setting, attempts, hits and back-off (for tests and benchmarks). */
    ReplySpin.Stats spinStats() {
        lock.lock();
        try {
            return spin.stats();
        } finally {
            lock.unlock();
        }
    }

    private ObjectNode exchange(byte[] body) {
        try {
            writeDeferred();
            framesWritten.incrementAndGet();
            socket.writeFrame(body);
            drainPending();
            spin.beforeRead(socket);
            return readReply(true);
        } catch (PosixException | FrameException e) {
            throw failed(e);
        }
    }

    /**
     * The transport failed mid-request (a reset, or the receive timeout expired with the reply still
     * owed): the next bytes on the socket cannot be matched to a request any more, so the socket is shut
     * down (the daemon releases this connection's holds) and every later request fails at once. The
     * mappings stay until {@link #close()}: views of got values keep working.
     */
    private VineyardException failed(RuntimeException cause) {
        VineyardException e = new VineyardException.ConnectionError("connection to vineyardd failed: "
                + cause.getMessage(), cause);
        if (broken == null) {
            broken = e;
            socket.shutdown();
        }
        return e;
    }

    /**
     * Sends {@code request} and reads its reply only if it comes within {@code timeoutMs} ({@code -1}: no
     * limit but the receive timeout). For requests that may wait long (a wait for a name) on a connection
     * used for nothing else: when no reply came in time, the connection is closed (the daemon drops the
     * pending request) and null is returned.
     */
    ObjectNode requestWithin(ObjectNode request, long timeoutMs) {
        lock.lock();
        try {
            ensureOpen();
            writeDeferred();
            drainPending();
            framesWritten.incrementAndGet();
            socket.writeFrame(Json.write(request));
            if (timeoutMs >= 0 && !awaitReadable(timeoutMs)) {
                close();
                return null;
            }
            ObjectNode reply = readReply(true);
            receiveFds(reply);
            return reply;
        } catch (PosixException | FrameException e) {
            throw failed(e);
        } finally {
            lock.unlock();
        }
    }

    /** Polls the socket until it is readable (true) or {@code timeoutMs} passed (false). */
    private boolean awaitReadable(long timeoutMs) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            long leftMs = Math.max(0, (deadline - System.nanoTime() + 999_999) / 1_000_000);
            int revents = Posix.poll(socket.fd(), Posix.POLLIN, (int) Math.min(Integer.MAX_VALUE, leftMs));
            if (revents < 0 && Posix.errno() == Posix.EINTR) {
                continue;
            }
            if (revents != 0) {
                return true;   // a reply, a hang-up or an error: the read tells which
            }
            if (leftMs == 0) {
                return false;
            }
        }
    }

    private ObjectNode readReply(boolean throwErrors) {
        byte[] replyBody = socket.readFrame();
        if (replyBody == null) {
            throw new VineyardException.ConnectionError(Status.CONNECTION_ERROR, "vineyardd closed the connection");
        }
        JsonNode reply;
        try {
            reply = Json.parse(replyBody);
        } catch (IOException e) {
            throw new VineyardException(Status.INVALID, "vineyardd sent a reply that is not JSON", e);
        }
        if (!reply.isObject()) {
            throw new VineyardException(Status.INVALID, "vineyardd sent a reply that is not a JSON object");
        }
        VineyardException error = throwErrors ? errorOf((ObjectNode) reply) : null;
        if (error != null) {
            throw error;
        }
        return (ObjectNode) reply;
    }

    /** The error an error reply ({@code {code, message}} without {@code type}) stands for, or null. */
    private static VineyardException errorOf(ObjectNode reply) {
        JsonNode code = reply.get("code");
        if (code != null && code.isInt() && code.intValue() != 0 && !reply.has("type")) {
            return VineyardException.of(Status.of(code.intValue()), reply.path("message").asText());
        }
        return null;
    }

    private void receiveFds(ObjectNode reply) {
        List<JsonNode> wanted = new ArrayList<>();   // the payload of a blob in each file whose fd follows
        JsonNode fd = reply.get("fd");
        if (fd != null && fd.isIntegralNumber() && fd.intValue() >= 0) {
            wanted.add(payloadIn(reply, fd.intValue()));
        }
        JsonNode fds = reply.get("fds");
        if (fds != null && fds.isArray() && !tcp) {
            for (JsonNode f : fds) {
                wanted.add(payloadIn(reply, f.intValue()));
            }
        }
        for (JsonNode p : wanted) {
            int local = socket.receiveFd();
            mappings.add(p.path("store_fd").asInt(), local, p.path("map_size").asLong(-1), StoreMappings.isDiskFile(p));
        }
    }

    /**
     * The first payload of {@code reply} in the file {@code storeFd}: in its {@code payloads}, or a payload
     * field of its own ({@code created} of create_buffer, {@code buffer} of get_next_stream_chunk); only
     * the key when none names it.
     */
    private static JsonNode payloadIn(ObjectNode reply, int storeFd) {
        JsonNode payloads = reply.get("payloads");
        if (payloads != null) {
            for (JsonNode p : payloads) {
                if (p.path("store_fd").asInt(-2) == storeFd) {
                    return p;
                }
            }
        }
        for (JsonNode field : reply) {
            if (field.isObject() && field.path("store_fd").asInt(-2) == storeFd) {
                return field;
            }
        }
        return Json.object().put("store_fd", storeFd);
    }

    /**
     * The bytes of a blob described by a payload, as a segment of this connection's mapping of its store
     * fd (no copy). Empty blobs give an empty segment. A disk file's segment stays valid until the last
     * SDK view of that file is released (raw protocol use: keep one open, or use the pool).
     */
    public MemorySegment blobSegment(JsonNode payload) {
        long size = payload.path("data_size").asLong();
        if (size == 0) {
            return MemorySegment.NULL.reinterpret(0);
        }
        return mappings.segment(payload.path("store_fd").asInt(), payload.path("data_offset").asLong(), size);
    }

    /**
     * Like {@link #blobSegment}, holding the mapping the bytes lie in until the lease is closed (a disk
     * file is unmapped when its last lease is); null for an empty blob.
     */
    StoreMappings.Lease leaseBlob(JsonNode payload) {
        long size = payload.path("data_size").asLong();
        if (size == 0) {
            return null;
        }
        return mappings.lease(payload.path("store_fd").asInt(), payload.path("data_offset").asLong(), size);
    }

    /** Maps store files from now on with {@code MAP_POPULATE} (every page mapped up front) or not. */
    void populateMappings(boolean populate) {
        mappings.populate(populate);
    }

    /** Number of store files mapped now (for tests). */
    int mappedFileCount() {
        return mappings.mappedCount();
    }

    /** Every store mapping of this connection. */
    public List<MemorySegment> storeMappings() {
        return mappings.all();
    }

    /** The whole mapping of a store fd (server-side number), or null when not mapped. */
    public MemorySegment storeMapping(int serverFd) {
        return mappings.whole(serverFd);
    }

    /** The underlying frame socket (raw protocol work: binary frames after a remote-buffer request). */
    public FrameSocket socket() {
        return socket;
    }

    private void ensureOpen() {
        if (closed) {
            throw new VineyardException(Status.CONNECTION_ERROR, "the connection is closed");
        }
        RuntimeException cause = broken;
        if (cause != null) {
            throw new VineyardException.ConnectionError("the connection is unusable after a failed request: "
                    + cause.getMessage(), cause);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Sends {@code exit_request}, closes the socket and unmaps every store mapping. A request in flight
     * on another thread (a wait, say) is woken and fails with a connection error.
     */
    @Override
    public void close() {
        boolean idle = lock.tryLock();
        if (!idle) {
            closed = true;
            socket.shutdown();
            lock.lock();
        }
        try {
            if (socket.isClosed()) {
                return;
            }
            closed = true;
            if (idle) {
                try {
                    ObjectNode exit = Json.object();
                    exit.put("type", "exit_request");
                    socket.writeFrame(Json.write(exit));
                } catch (RuntimeException e) {
                    // the daemon is gone already: nothing to tell it
                }
            }
            socket.close();
            if (mappingPins > 0) {
                unmapDeferred = true;
            } else {
                mappings.close();
            }
        } finally {
            lock.unlock();
        }
    }
}
