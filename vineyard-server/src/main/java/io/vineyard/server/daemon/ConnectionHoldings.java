package io.vineyard.server.daemon;

import io.vineyard.server.store.BlobLinks;
import io.vineyard.server.store.BlobStore;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

/**
 * Everything one connection holds in the daemon, released by one {@link #close()} however the
 * connection ends (a clean exit, a reset, kill -9 of the client, daemon shutdown).
 *
 * <p>Rules: (1) whatever a connection acquires is recorded here before the request that acquired it
 * replies, so a death at any point leaves nothing behind; (2) {@link #close()} runs once, on the
 * connection's own thread, after its last request ended; (3) blob holds are dropped under the store
 * lock (unsealed blobs the connection created are deleted, sealed ones stay: objects belong to the
 * daemon, not to a connection); (4) in the same locked step, every stream the connection opened,
 * wrote or read learns that it is gone (a writer that had not stopped fails its stream, a reader
 * drops it); (5) other resources (locks, migrations as they arrive) are closed after that, outside
 * the lock, newest first.
 *
 * <p>The blob links and the stream ids are guarded by the store lock; the sent store keys belong to
 * the connection's thread alone.
 */
public final class ConnectionHoldings implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionHoldings.class);

    private final DaemonContext ctx;
    private final long id;
    private final boolean rpc;
    private final BlobLinks blobs;
    private final Set<Integer> sentStoreKeys = new HashSet<>();
    private final Set<Long> streams = new HashSet<>();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private boolean closed;

    public ConnectionHoldings(DaemonContext ctx, long id, boolean rpc) {
        this.ctx = ctx;
        this.id = id;
        this.rpc = rpc;
        this.blobs = new BlobLinks(id);
    }

    public long id() {
        return id;
    }

    /** True for a TCP (RPC) connection, which never receives fds. */
    public boolean rpc() {
        return rpc;
    }

    /** The connection's blob holds (use under the store lock). */
    public BlobLinks blobs() {
        return blobs;
    }

    /**
     * Records that the file named {@code storeKey} goes to this connection; true the first time only
     * (the daemon passes each file's fd once per connection, as vineyard does). A disk file is passed
     * again once the connection held none of its blobs in between (its client may have closed the fd
     * when it unmapped the file). Call under the store lock.
     */
    public boolean markStoreSent(int storeKey) {
        if (storeKey >= BlobStore.FIRST_DISK_KEY) {
            sentStoreKeys.removeAll(blobs.takeReleasedDiskKeys());
        }
        return sentStoreKeys.add(storeKey);
    }

    /** Records that this connection reads or writes stream {@code id} (under the store lock). */
    public void touchStream(long id) {
        streams.add(id);
    }

    /** Adds a resource that {@link #close()} closes (after the blob holds, newest first). */
    public synchronized void own(AutoCloseable resource) {
        if (closed) {
            throw new IllegalStateException("connection " + id + " is closed");
        }
        resources.push(resource);
    }

    /** Removes a resource the connection gave back before its end; true when it was held. */
    public synchronized boolean disown(AutoCloseable resource) {
        return resources.remove(resource);
    }

    /** Releases everything; idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        ctx.lockedRun(() -> {
            ctx.blobs().disconnect(blobs);
            for (long stream : streams) {
                ctx.streams().connectionGone(stream, blobs);
            }
        });
        while (true) {
            AutoCloseable r;
            synchronized (this) {
                r = resources.poll();
            }
            if (r == null) {
                return;
            }
            try {
                r.close();
            } catch (Exception e) {
                ctx.countUnexpectedError();
                LOG.error("connection {}: releasing {} failed", id, r, e);
            }
        }
    }

    @Override
    public String toString() {
        return "connection " + id;
    }
}
