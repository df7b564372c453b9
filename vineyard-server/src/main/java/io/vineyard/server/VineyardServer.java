package io.vineyard.server;

import io.vineyard.common.ObjectIds;
import io.vineyard.common.posix.Posix;
import io.vineyard.server.cluster.EtcdBackend;
import io.vineyard.server.cluster.MetaBackend;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.daemon.DaemonGauges;
import io.vineyard.server.daemon.DaemonSidecar;
import io.vineyard.server.daemon.Waits;
import io.vineyard.server.handler.AdminHandlers;
import io.vineyard.server.handler.BlobHandlers;
import io.vineyard.server.handler.ClusterHandlers;
import io.vineyard.server.handler.MetadataHandlers;
import io.vineyard.server.handler.NameHandlers;
import io.vineyard.server.handler.ObjectHandlers;
import io.vineyard.server.handler.RemoteTransferHandlers;
import io.vineyard.server.handler.SpillHandlers;
import io.vineyard.server.handler.StreamHandlers;
import io.vineyard.server.memory.SharedMemoryPool;
import io.vineyard.server.meta.MetaOp;
import io.vineyard.server.meta.MetaStore;
import io.vineyard.server.metrics.MetricsEndpoint;
import io.vineyard.server.protocol.ClientConnection;
import io.vineyard.server.protocol.HandlerTable;
import io.vineyard.server.session.PlasmaHandlers;
import io.vineyard.server.session.Session;
import io.vineyard.server.session.SessionHandlers;
import io.vineyard.server.session.Sessions;
import io.vineyard.server.store.BlobStore;
import io.vineyard.server.store.SpillDirectory;
import io.vineyard.server.transport.Listener;
import io.vineyard.server.transport.PlatformLane;
import io.vineyard.server.transport.Poller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One vineyardd instance: start-up and shutdown. It makes the pool, the stores and the
 * {@link DaemonContext} the handlers work with, binds the IPC and RPC listeners, and gives every
 * accepted connection its own thread.
 *
 * <p>Concurrency model. One virtual thread per connection reads a request, handles it and writes
 * the reply (vineyard also serves one request per connection at a time). Sockets are non-blocking:
 * where a read or write would block, the thread parks in the {@link Poller} (one epoll thread) and
 * its carrier serves other connections. A platform thread per connection cost 0.2-0.5 ms to start
 * here, which a burst of 1,000 connecting clients paid in line; a virtual thread starts in
 * microseconds. A connection whose next request comes within {@code --spin_us} takes it without
 * parking at all (bounded busy-wait), so a single client's latency is unchanged. The accept thread
 * only accepts and starts the connection's thread; everything a connection allocates is made, used
 * and freed on its own thread.
 *
 * <p>Shutdown never lets a thread touch unmapped memory: it stops accepting, wakes every wait and
 * every blocked read, waits for the connection threads to end, and unmaps the pool only once no
 * thread is inside a system call on it (a late access afterwards is an exception, not a SIGSEGV).
 * The spill directory's files are deleted once every connection thread has ended.
 */
public final class VineyardServer implements AutoCloseable {
    /** The protocol version this daemon speaks. */
    public static final String VERSION = AdminHandlers.VERSION;
    private static final Logger LOG = LoggerFactory.getLogger(VineyardServer.class);
    private static final long SHUTDOWN_GRACE_NS = TimeUnit.SECONDS.toNanos(5);

    private final ServerConfig config;
    private final SharedMemoryPool pool;
    private final SpillDirectory spillDir;
    private final DaemonContext ctx;
    private final HandlerTable handlers;
    private final Sessions sessions;
    private final MetaBackend backend;
    private final Poller poller = new Poller();
    /** Started at {@link #start()}: lane threads for the first connections, in the background. */
    private volatile PlatformLane lane = new PlatformLane(0, 0);
    private final AtomicLong connectionIds = new AtomicLong();
    private final Set<ClientConnection> connections = ConcurrentHashMap.newKeySet();
    private Listener ipc;
    private Listener rpc;
    private MetricsEndpoint metrics;
    private AutoCloseable crdSync;
    /** Punches freed pages once idle for {@code --dirty_decay_ms}; null with no decay. */
    private Thread dirtyDecay;
    private volatile boolean closed;

    public VineyardServer(ServerConfig config) {
        this.config = config;
        // etcd first: an unreachable backend fails start-up before any memory is taken
        long instanceId = 0;
        if (config.meta().equals("etcd")) {
            EtcdBackend etcd = EtcdBackend.connect(config.etcd());
            try {
                instanceId = etcd.allocateInstanceId();
            } catch (RuntimeException e) {
                etcd.close();
                throw e;
            }
            this.backend = etcd;
        } else {
            this.backend = MetaBackend.LOCAL;
        }
        try {
            this.spillDir = config.spill().enabled() ? SpillDirectory.open(config.spill().path()) : null;
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
        try {
            this.pool = SharedMemoryPool.create(config.sizeBytes(), config.reserveMemory(), config.warmBytes());
        } catch (RuntimeException e) {
            if (spillDir != null) {
                spillDir.close();
            }
            backend.close();
            throw e;
        }
        // at nice 19 while the rest of start-up runs: the first puts find warm pages sooner, and
        // start-up threads keep the CPUs they need
        pool.prefaultInBackground();
        ObjectIds ids = new ObjectIds(instanceId, System::currentTimeMillis);
        BlobStore blobs = new BlobStore(pool, ids);
        blobs.dirtyDecay(config.dirtyDecayMs(), System::nanoTime);
        Waits waits = new Waits();
        MetaStore meta = new MetaStore(blobs, ids, instanceId, System::currentTimeMillis, waits);
        this.ctx = new DaemonContext(config, blobs, meta, waits, new Authenticator(config.htpasswd()),
                instanceId, localHostname(), spillDir, backend);
        this.sessions = new Sessions(ctx, ids, this::handlerTable, this::acceptInSession);
        this.handlers = sessions.root().handlers();
        ctx.stats().track(handlers.knownTypes());
        DaemonGauges.register(ctx, Version.PROTOCOL, Version.IMPLEMENTATION);
        if (backend instanceof EtcdBackend etcd) {
            etcd.registerMetrics(ctx.metrics());
            ctx.metrics().gauge("vineyard_cluster_instances", "Instances registered in etcd (cluster_meta)",
                    () -> ctx.locked(() -> ctx.meta().instancesJson().size()));
        }
    }

    /** The request table of a session's socket (the root session's is the daemon's own). */
    private HandlerTable handlerTable(Session s, Sessions all) {
        DaemonContext c = s.context();
        return new HandlerTable(List.of(new AdminHandlers(c), new BlobHandlers(c),
                new MetadataHandlers(c), new NameHandlers(c), new ObjectHandlers(c), new ClusterHandlers(c),
                new RemoteTransferHandlers(c), new SpillHandlers(c), new StreamHandlers(c),
                new SessionHandlers(s, all), new PlasmaHandlers(s)), config.extensions());
    }

    private static String localHostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** Binds the sockets (and the metrics endpoint when asked for) and starts accepting. */
    public void start() throws IOException {
        ipc = Listener.unix(config.socketPath());
        try {
            if (config.rpc()) {
                rpc = Listener.tcp(config.rpcHost(), config.rpcPort());
                ctx.rpcEndpoint(rpcEndpoint(config.rpcHost(), rpc.port()));
            }
            if (config.metricsEnabled()) {
                metrics = MetricsEndpoint.start(ctx.metrics(), config.metricsHost(), config.metricsPort(),
                        ctx.authenticator().enabled() ? (u, p) -> ctx.authenticator().verify(u, p) == null : null);
            }
        } catch (IOException e) {
            ipc.close();
            if (rpc != null) {
                rpc.close();
            }
            throw e;
        }
        if (backend instanceof EtcdBackend etcd) {
            try {
                etcd.start(replica(), new EtcdBackend.Identity(ctx.hostname(), ctx.nodename(), ctx.rpcEndpoint(), config.socketPath()));
            } catch (RuntimeException e) {
                ipc.close();
                if (rpc != null) {
                    rpc.close();
                }
                throw e;
            }
        }
        lane = new PlatformLane(config.platformConnections(), Math.min(4, config.platformConnections()));
        if (rpc != null) {
            rpc.start(true, fd -> accept(fd, true));
        }
        ipc.start(false, fd -> accept(fd, false));
        dirtyDecay = startDirtyDecay();
        if (config.crds().enabled()) {
            // found and loaded only now: the daemon's classpath needs vineyard-k8s for this flag alone
            crdSync = DaemonSidecar.find("sync_crds", "vineyard-k8s")
                    .start(new DaemonSidecar.Context(config, ctx.instanceId(), ctx.hostname(), ctx.nodename()));
        }
    }

    /**
     * With a dirty decay: a thread at nice 19 that, every quarter of the decay (at most a second), punches
     * the freed pages idle that long (under the store lock, so that none is allocated meanwhile).
     */
    private Thread startDirtyDecay() {
        long decayMs = config.dirtyDecayMs();
        if (decayMs == 0) {
            return null;
        }
        long periodMs = Math.max(10, Math.min(1000, decayMs / 4));
        return Thread.ofPlatform().daemon().name("vineyard-dirty-decay").start(() -> {
            Posix.niceThisThread(19);
            while (!closed) {
                try {
                    Thread.sleep(periodMs);
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    if (!closed) {
                        ctx.lockedRun(() -> ctx.blobs().punchDecayed());
                    }
                } catch (RuntimeException e) {
                    LOG.warn("returning freed pages to the OS failed", e);
                }
            }
        });
    }

    /** The store as the etcd backend replicates into it: every change under the store lock. */
    private MetaBackend.Replica replica() {
        return new MetaBackend.Replica() {
            @Override
            public void apply(List<MetaOp> ops) {
                ctx.lockedRun(() -> ctx.meta().applyRemote(ops, null));
            }

            @Override
            public void forget() {
                ctx.lockedRun(() -> ctx.meta().forgetReplica());
            }

            @Override
            public List<MetaOp> republishOps() {
                return ctx.locked(() -> ctx.meta().republishOps());
            }

            @Override
            public void republished() {
                ctx.lockedRun(() -> ctx.meta().markAllPublished());
            }
        };
    }

    /**
     * The RPC address clients are told ({@code register_reply}, {@code cluster_meta}): the bound address,
     * or the host name when bound to every interface (as vineyard reports it).
     */
    private String rpcEndpoint(String host, int port) {
        return (host.equals("0.0.0.0") ? ctx.hostname() : host) + ":" + port;
    }

    /** {@code http://host:port/metrics}, or null when the endpoint is off. */
    public String metricsUrl() {
        return metrics == null ? null : metrics.url();
    }

    /** On the accept thread: hands the socket to a new connection thread and returns. */
    private void accept(int fd, boolean isRpc) {
        start(ctx, handlers, fd, isRpc, this::connectionEnded);
    }

    private void start(DaemonContext c, HandlerTable table, int fd, boolean isRpc, Consumer<ClientConnection> ended) {
        long id = connectionIds.incrementAndGet();
        ClientConnection conn = new ClientConnection(c, table, poller, fd, id, isRpc, ended);
        connections.add(conn);
        c.connectionCount(isRpc, 1);
        if (closed) {
            conn.shutdown(); // raced with close(): the thread ends at its first read
        }
        String name = "vineyard-conn-" + id;
        if (!lane.offer(() -> {
            Thread.currentThread().setName(name);
            conn.run();
        })) {
            Thread.ofVirtual().name(name).start(conn);
        }
    }

    /** On a session socket's accept thread. */
    private void acceptInSession(Session s, int fd) {
        if (!sessions.connectionStarted(s)) {
            Posix.close(fd); // the session ended meanwhile
            return;
        }
        start(s.context(), s.handlers(), fd, false, conn -> {
            if (connections.remove(conn)) {
                s.context().connectionCount(false, -1);
            }
            sessions.connectionEnded(s, conn.id());
        });
    }

    /** On a connection's thread, after it released everything. */
    private void connectionEnded(ClientConnection conn) {
        if (connections.remove(conn)) {
            ctx.connectionCount(conn.isRpc(), -1);
        }
    }

    /** The daemon's sessions (tests). */
    public Sessions sessions() {
        return sessions;
    }

    /** The handlers' view of this daemon (tests). */
    public DaemonContext context() {
        return ctx;
    }

    /** The request table (tests drive handlers through it without sockets). */
    public HandlerTable handlers() {
        return handlers;
    }

    /** The bound RPC port, or 0. */
    public int rpcPort() {
        return rpc == null ? 0 : rpc.port();
    }

    /**
     * Stops accepting, ends every connection, removes the socket and unmaps the pool. The pool stays
     * mapped while any connection thread is still running (it is then freed by the process's exit).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (dirtyDecay != null) {
            dirtyDecay.interrupt();   // out of its punch (under the store lock) before the pool can close
            try {
                dirtyDecay.join(TimeUnit.NANOSECONDS.toMillis(SHUTDOWN_GRACE_NS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (crdSync != null) {
            try {
                crdSync.close();
            } catch (Exception e) {
                LOG.warn("stopping --sync_crds failed", e);
            }
        }
        // the lease goes first: the other instances see this one leave at once
        backend.close();
        if (ipc != null) {
            ipc.close();
        }
        sessions.closeAll();
        if (rpc != null) {
            rpc.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        ctx.beginShutdown();
        for (ClientConnection c : connections) {
            c.shutdown();
        }
        long deadline = System.nanoTime() + SHUTDOWN_GRACE_NS;
        boolean allEnded = true;
        for (ClientConnection c : connections) {
            allEnded &= c.awaitEnd(Math.max(0, deadline - System.nanoTime()));
        }
        lane.close();
        if (allEnded) {
            poller.close();
        }
        if (spillDir != null && allEnded) {
            spillDir.close(); // no connection thread does spill I/O any more
        }
        if (!allEnded || !pool.tryClose()) {
            LOG.warn("{} connection threads still run after {} s: the pool stays mapped until the process exits",
                    connections.size(), TimeUnit.NANOSECONDS.toSeconds(SHUTDOWN_GRACE_NS));
        }
    }
}
