package io.vineyard.server;

import io.vineyard.common.ObjectIds;
import io.vineyard.common.wire.FrameSocket;
import io.vineyard.server.memory.SharedMemoryPool;
import io.vineyard.server.meta.MetaStore;
import io.vineyard.server.protocol.ClientConnection;
import io.vineyard.server.protocol.RequestDispatcher;
import io.vineyard.server.store.BlobStore;
import io.vineyard.server.transport.Listener;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One vineyardd instance: the pool, the blob and metadata stores, and the IPC and RPC listeners.
 *
 * <p>Design note. Every connection has its own platform thread that reads a request, handles it and
 * writes the reply (vineyard also handles one request per connection at a time). Store state is
 * guarded by one lock, held only for the in-memory part of a request (microseconds), never across
 * socket I/O; waiting requests ({@code get_name}/{@code get_data} with {@code wait}) park on a
 * condition of that lock and are woken by every metadata change. A connection's thread releases
 * everything the connection held when it ends, however it ends.
 */
public final class VineyardServer implements AutoCloseable {
    /** The protocol version this daemon speaks. */
    public static final String VERSION = "0.24.4";
    private static final long INSTANCE_ID = 0;

    private final ServerConfig config;
    private final SharedMemoryPool pool;
    private final BlobStore blobs;
    private final MetaStore meta;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition metaChanged = lock.newCondition();
    private final Authenticator authenticator;
    private final RequestDispatcher dispatcher;
    private final AtomicLong connectionIds = new AtomicLong();
    private final AtomicInteger ipcConnections = new AtomicInteger();
    private final AtomicInteger rpcConnections = new AtomicInteger();
    private final AtomicInteger deferredRequests = new AtomicInteger();
    private final Set<ClientConnection> connections = ConcurrentHashMap.newKeySet();
    private final String hostname;
    private final long startMs = System.currentTimeMillis();
    private Listener ipc;
    private Listener rpc;
    private volatile boolean closed;

    public VineyardServer(ServerConfig config) {
        this.config = config;
        this.pool = SharedMemoryPool.create(config.sizeBytes(), config.reserveMemory());
        ObjectIds ids = new ObjectIds(INSTANCE_ID, System::currentTimeMillis);
        this.blobs = new BlobStore(pool, ids);
        this.meta = new MetaStore(blobs, ids, INSTANCE_ID, System::currentTimeMillis);
        this.authenticator = new Authenticator(config.htpasswd());
        this.dispatcher = new RequestDispatcher(this);
        this.hostname = localHostname();
    }

    private static String localHostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** Binds the sockets and starts accepting. */
    public void start() throws IOException {
        ipc = Listener.unix(config.socketPath());
        if (config.rpc()) {
            try {
                rpc = Listener.tcp(config.rpcPort());
            } catch (IOException e) {
                ipc.close();
                throw e;
            }
            rpc.start(true, s -> accept(s, true));
        }
        ipc.start(false, s -> accept(s, false));
    }

    private void accept(FrameSocket socket, boolean isRpc) {
        if (closed) {
            socket.close();
            return;
        }
        ClientConnection conn = new ClientConnection(this, dispatcher, socket, connectionIds.incrementAndGet(), isRpc);
        connections.add(conn);
        (isRpc ? rpcConnections : ipcConnections).incrementAndGet();
        Thread.ofPlatform().daemon(true).name("vineyard-conn-" + conn.id()).start(conn);
    }

    /** Called by a connection's thread as it ends, after its holds were released. */
    public void connectionClosed(ClientConnection conn) {
        if (connections.remove(conn)) {
            (conn.isRpc() ? rpcConnections : ipcConnections).decrementAndGet();
        }
    }

    /** Runs {@code action} under the store lock. */
    public <T> T locked(Supplier<T> action) {
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code action} under the store lock and wakes waiting requests: for metadata changes. */
    public <T> T lockedChange(Supplier<T> action) {
        lock.lock();
        try {
            T result = action.get();
            metaChanged.signalAll();
            return result;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits under the store lock until {@code ready} returns non-null, the connection dies or the
     * daemon closes (then null). Counted in {@code deferred_requests} while it waits.
     */
    public <T> T awaitUnderLock(Supplier<T> ready, ClientConnection conn) throws InterruptedException {
        lock.lock();
        deferredRequests.incrementAndGet();
        try {
            while (true) {
                T value = ready.get();
                if (value != null) {
                    return value;
                }
                if (closed || conn.peerGone()) {
                    return null;
                }
                // woken by every metadata change; the timeout only bounds how late a dead peer is noticed
                metaChanged.await(200, TimeUnit.MILLISECONDS);
            }
        } finally {
            deferredRequests.decrementAndGet();
            lock.unlock();
        }
    }

    public ServerConfig config() {
        return config;
    }

    public BlobStore blobs() {
        return blobs;
    }

    public MetaStore meta() {
        return meta;
    }

    public Authenticator authenticator() {
        return authenticator;
    }

    public long instanceId() {
        return INSTANCE_ID;
    }

    public String hostname() {
        return hostname;
    }

    public long startMs() {
        return startMs;
    }

    /** {@code host:port} of the RPC listener, or vineyard's {@code 0.0.0.0:0} when RPC is off. */
    public String rpcEndpoint() {
        return rpc == null ? "0.0.0.0:0" : hostname + ":" + rpc.port();
    }

    /** The bound RPC port, or 0. */
    public int rpcPort() {
        return rpc == null ? 0 : rpc.port();
    }

    public int ipcConnections() {
        return ipcConnections.get();
    }

    public int rpcConnections() {
        return rpcConnections.get();
    }

    public int deferredRequests() {
        return deferredRequests.get();
    }

    /** Stops accepting, closes every connection, removes the socket and unmaps the pool. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ipc != null) {
            ipc.close();
        }
        if (rpc != null) {
            rpc.close();
        }
        for (ClientConnection c : connections) {
            c.shutdown();
        }
        lock.lock();
        try {
            metaChanged.signalAll();
        } finally {
            lock.unlock();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (ClientConnection c : connections) {
            c.awaitEnd(Math.max(0, deadline - System.nanoTime()));
        }
        pool.close();
    }

    SharedMemoryPool pool() {
        return pool;
    }
}
