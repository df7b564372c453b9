package io.vineyard.server.daemon;

import io.vineyard.common.VineyardException;
import io.vineyard.server.Authenticator;
import io.vineyard.server.ServerConfig;
import io.vineyard.server.cluster.MetaBackend;
import io.vineyard.server.meta.MetaOp;
import io.vineyard.server.meta.MetaStore;
import io.vineyard.server.metrics.DaemonMetrics;
import io.vineyard.server.store.BlobStore;
import io.vineyard.server.store.SpillDirectory;
import io.vineyard.server.stream.StreamStore;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What request handlers may use of the daemon: the stores under their one lock, the waits, the
 * configuration, the instance's identity and its counters. Start-up and shutdown stay in
 * {@code VineyardServer}; handlers never see listeners or threads.
 *
 * <p>Design note. Store state (blobs, metadata, names, waits) is guarded by one lock, held only for
 * the in-memory part of a request (microseconds), never across socket I/O or any system call. A
 * request that must wait ({@code get_name}/{@code get_data}/{@code get_object} with {@code wait})
 * registers in {@link Waits} under what it waits for and parks without the lock; a change wakes only
 * its own waiters, after the lock is released. The same goes for the file work the blob store queues
 * (spill files to delete, freed extents to punch out of the memfd): it runs after the lock, on the
 * thread that queued it, before that thread's request replies.
 */
public final class DaemonContext {
    /** How often a parked request checks that its peer is still there. */
    private static final long PEER_CHECK_NS = TimeUnit.MILLISECONDS.toNanos(200);

    private final ServerConfig config;
    private final BlobStore blobs;
    private final MetaStore meta;
    private final Waits waits;
    private final Authenticator authenticator;
    private final DaemonMetrics metrics = new DaemonMetrics();
    private final RequestStats stats;
    private final BusyWait busyWait;
    private final long instanceId;
    private final String hostname;
    private final long startMs = System.currentTimeMillis();
    private final ReentrantLock lock;
    private final SessionScope scope;
    private final StreamStore streams;
    private final MetaBackend backend;
    private final Spiller spiller;
    /**
     * The spiller whose directory and I/O signal the after-lock work uses: the root's, also for a
     * session (the stores of one pool share one queue of that work, see {@code BlobStore}).
     */
    private final Spiller afterLockSpiller;
    private final AtomicInteger ipcConnections = new AtomicInteger();
    private final AtomicInteger rpcConnections = new AtomicInteger();
    private final AtomicLong ipcAccepted = new AtomicLong();
    private final AtomicLong rpcAccepted = new AtomicLong();
    private final AtomicLong unexpectedErrors = new AtomicLong();
    private volatile String rpcEndpoint = "0.0.0.0:0";
    private volatile boolean closing;

    /**
     * @param spillDir the open {@code --spill_path} directory, or null when spilling is off
     */
    public DaemonContext(ServerConfig config, BlobStore blobs, MetaStore meta, Waits waits,
                         Authenticator authenticator, long instanceId, String hostname, SpillDirectory spillDir) {
        this(config, blobs, meta, waits, authenticator, instanceId, hostname, spillDir, MetaBackend.LOCAL);
    }

    public DaemonContext(ServerConfig config, BlobStore blobs, MetaStore meta, Waits waits,
                         Authenticator authenticator, long instanceId, String hostname, SpillDirectory spillDir,
                         MetaBackend backend) {
        this(config, blobs, meta, waits, authenticator, instanceId, hostname, spillDir, backend, new ReentrantLock(),
                new BusyWait(config.spinMicros(), Runtime.getRuntime().availableProcessors()), SessionScope.ROOT, null);
    }

    /**
     * A session's context (see {@code io.vineyard.server.session}): its own stores over the root's pool,
     * under the root's lock (one allocator serves every session), with no spilling and no backend.
     */
    public DaemonContext(DaemonContext root, ServerConfig sessionConfig, BlobStore blobs, MetaStore meta, Waits waits,
                         SessionScope scope) {
        this(sessionConfig, blobs, meta, waits, root.authenticator, root.instanceId, root.hostname, null,
                MetaBackend.LOCAL, root.lock, root.busyWait, scope, root.spiller);
    }

    private DaemonContext(ServerConfig config, BlobStore blobs, MetaStore meta, Waits waits,
                          Authenticator authenticator, long instanceId, String hostname, SpillDirectory spillDir,
                          MetaBackend backend, ReentrantLock lock, BusyWait busyWait, SessionScope scope,
                          Spiller rootSpiller) {
        this.lock = lock;
        this.scope = scope;
        this.backend = backend;
        this.config = config;
        this.blobs = blobs;
        this.meta = meta;
        this.waits = waits;
        this.authenticator = authenticator;
        this.stats = new RequestStats(metrics);
        this.instanceId = instanceId;
        this.hostname = hostname;
        this.busyWait = busyWait;
        this.streams = new StreamStore(blobs, meta, waits, blobs.limitBytes() / 100 * config.streamThreshold());
        this.spiller = new Spiller(this, blobs, spillDir, config.spill(), rootSpiller);
        this.afterLockSpiller = rootSpiller != null ? rootSpiller : spiller;
        blobs.punchOutsideLock(true);
        blobs.spillEnabled(spillDir != null);
    }

    /**
     * Runs {@code action} under the store lock; waiters whose keys it changed are woken after the
     * lock is released.
     */
    public <T> T locked(Supplier<T> action) {
        List<Waits.Waiter> wake;
        BlobStore.PostLockWork work;
        lock.lock();
        try {
            return action.get();
        } finally {
            wake = waits.drainQueued();
            work = blobs.takePostLockWork();
            lock.unlock();
            Waits.unpark(wake);
            if (work != null) {
                afterLock(work);
            }
        }
    }

    /** Deletes spill files and punches freed extents without the lock, then hands the extents back. */
    private void afterLock(BlobStore.PostLockWork work) {
        for (BlobStore.SpillFile f : work.files()) {
            afterLockSpiller.directory().delete(f.id(), f.seq());
        }
        if (!work.extents().isEmpty()) {
            blobs.punch(work.extents());
            lockedRun(() -> blobs.punched(work.extents()));
            afterLockSpiller.ioDone();
        }
    }

    /**
     * As {@link #locked(Supplier)}, for an action that creates metadata whose tree may name objects of
     * other instances: when one is not (yet) in this replica and metadata is shared, the replica catches
     * up with etcd's head (outside the lock) and the action runs once more. A member another daemon has
     * just persisted is then found however far the watch lagged; one that really does not exist still
     * fails with ObjectNotExists. The action must change nothing when it throws.
     */
    public <T> T lockedCatchingUp(Supplier<T> action) {
        try {
            return locked(action);
        } catch (VineyardException.ObjectNotExists e) {
            if (!shared()) {
                throw e;
            }
            try {
                backend.syncRemote();
            } catch (VineyardException unsynced) {
                e.addSuppressed(unsynced);   // etcd unreachable: the member is still missing here
                throw e;
            }
            return locked(action);
        }
    }

    /** As {@link #locked(Supplier)}, for an action with no result. */
    public void lockedRun(Runnable action) {
        locked(() -> {
            action.run();
            return null;
        });
    }

    /**
     * Waits until {@code ready} (run under the lock) returns non-null, and returns it. Re-checked only
     * when one of {@code keys} changes. Returns null when {@code deadlineNs} ({@link System#nanoTime()})
     * passes, when {@code gone} says the peer left (checked without the lock, every 200 ms), or when
     * the daemon stops.
     */
    public <T> T await(Supplier<T> ready, Collection<? extends Waits.Key> keys, long deadlineNs, BooleanSupplier gone) {
        First<T> first = locked(() -> {
            T value = ready.get();
            return value != null || closing ? new First<>(value, null) : new First<>(null, waits.register(keys));
        });
        Waits.Waiter waiter = first.waiter();
        if (waiter == null) {
            return first.value();
        }
        try {
            long nextPeerCheck = System.nanoTime() + PEER_CHECK_NS;
            while (true) {
                long now = System.nanoTime();
                if (now - deadlineNs >= 0 || closing) {
                    return null;
                }
                if (now - nextPeerCheck >= 0) {
                    if (gone.getAsBoolean()) {
                        return null;
                    }
                    nextPeerCheck = now + PEER_CHECK_NS;
                }
                if (waiter.consumeSignal()) {
                    T value = locked(ready);
                    if (value != null) {
                        return value;
                    }
                    continue;
                }
                LockSupport.parkNanos(this, Math.min(deadlineNs - now, nextPeerCheck - now));
            }
        } finally {
            lockedRun(() -> waits.cancel(waiter));
        }
    }

    /** What {@link #await} found at once, or the waiter it registered. */
    private record First<T>(T value, Waits.Waiter waiter) {
    }

    /** A deadline for {@link #await} that never passes. */
    public static long noDeadline() {
        return System.nanoTime() + Long.MAX_VALUE;
    }

    /** Stops every wait (daemon shutdown): parked requests return null at once. */
    public void beginShutdown() {
        closing = true;
        lockedRun(waits::signalAll);
    }

    /** The session this context serves ({@link SessionScope#ROOT} for the daemon's own socket). */
    public SessionScope scope() {
        return scope;
    }

    public ServerConfig config() {
        return config;
    }

    public BlobStore blobs() {
        return blobs;
    }

    /** Spilling to disk and reloading (its methods take the lock themselves). */
    public Spiller spiller() {
        return spiller;
    }

    /** The streams (use under the store lock). */
    public StreamStore streams() {
        return streams;
    }

    public MetaStore meta() {
        return meta;
    }

    /**
     * Where persisted metadata is shared: handlers commit a change's backend keys there before they
     * apply it (never under the store lock).
     */
    public MetaBackend backend() {
        return backend;
    }

    /** Whether persisted metadata is shared with other instances (etcd), so changes to it are committed there first. */
    public boolean shared() {
        return backend.shared();
    }

    /** Commits backend keys (never call it under the store lock); nothing when there are none. */
    public void commit(List<MetaOp> ops) {
        if (!ops.isEmpty()) {
            backend.commit(ops);
        }
    }

    /**
     * Publishes a just-made object that is persistent (created with {@code transient:false}, or a copy
     * of a persistent one); when the backend refuses it the object is discarded and the error thrown,
     * so the request leaves nothing behind.
     */
    public void publishIfPersistent(long id) {
        if (!shared()) {
            return;
        }
        List<MetaOp> ops = locked(() -> meta.isPersistent(id) && !meta.isPublished(id) ? meta.publishOps(id) : List.<MetaOp>of());
        if (ops.isEmpty()) {
            return;
        }
        try {
            backend.commit(ops);
        } catch (RuntimeException e) {
            lockedRun(() -> meta.discard(id));
            throw e;
        }
        lockedRun(() -> meta.markPublished(id));
    }

    public Authenticator authenticator() {
        return authenticator;
    }

    /** The daemon's metrics: features register theirs here (see {@link DaemonMetrics}). */
    public DaemonMetrics metrics() {
        return metrics;
    }

    public RequestStats stats() {
        return stats;
    }

    public BusyWait busyWait() {
        return busyWait;
    }

    public long instanceId() {
        return instanceId;
    }

    public String hostname() {
        return hostname;
    }

    /** The node name {@code cluster_meta} reports: {@code --nodename}, else the host name. */
    public String nodename() {
        return config.nodename().isEmpty() ? hostname : config.nodename();
    }

    public long startMs() {
        return startMs;
    }

    /** {@code host:port} of the RPC listener, or vineyard's {@code 0.0.0.0:0} when RPC is off. */
    public String rpcEndpoint() {
        return rpcEndpoint;
    }

    public void rpcEndpoint(String endpoint) {
        this.rpcEndpoint = endpoint;
    }

    /** Counts a connection in or out of {@code ipc_connections} / {@code rpc_connections}. */
    public void connectionCount(boolean rpc, int delta) {
        (rpc ? rpcConnections : ipcConnections).addAndGet(delta);
        if (delta > 0) {
            (rpc ? rpcAccepted : ipcAccepted).addAndGet(delta);
        }
    }

    /** Connections accepted since start on the RPC port ({@code rpc}) or the IPC socket. */
    public long connectionsAccepted(boolean rpc) {
        return (rpc ? rpcAccepted : ipcAccepted).get();
    }

    public int ipcConnections() {
        return ipcConnections.get();
    }

    public int rpcConnections() {
        return rpcConnections.get();
    }

    /** Requests parked in a wait (vineyard's {@code deferred_requests}); read under the lock. */
    public int deferredRequests() {
        return waits.size();
    }

    /** A request ended in an unexpected exception (a daemon bug, answered with UnknownError). */
    public void countUnexpectedError() {
        unexpectedErrors.incrementAndGet();
    }

    public long unexpectedErrors() {
        return unexpectedErrors.get();
    }
}
