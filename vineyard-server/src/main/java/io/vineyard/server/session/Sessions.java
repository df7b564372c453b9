package io.vineyard.server.session;

import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.daemon.SessionScope;
import io.vineyard.server.daemon.Waits;
import io.vineyard.server.meta.MetaStore;
import io.vineyard.server.protocol.HandlerTable;
import io.vineyard.server.store.BlobStore;
import io.vineyard.server.transport.Listener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * The daemon's sessions (vineyard's {@code VineyardRunner} map): the root session and those
 * {@code new_session} made. Every session's stores share the root's pool, allocator and lock, so a
 * request of one session costs what it costs on the root socket; only {@code new_session},
 * {@code delete_session} and {@code move_buffers_ownership} look sessions up here.
 *
 * <p>Beyond vineyard, a session may have a memory limit ({@code new_session_request.size}): its
 * blobs (visible, plus deleted ones still held by a reader) never exceed it, whatever the other
 * sessions hold, and an allocation beyond it fails with {@code NotEnoughMemory} naming the session.
 */
public final class Sessions {
    private static final Logger LOG = LoggerFactory.getLogger(Sessions.class);

    /** Starts the thread of a connection accepted on a session's socket. */
    @FunctionalInterface
    public interface Acceptor {
        void accept(Session session, int fd);
    }

    private final DaemonContext rootCtx;
    private final ObjectIds ids;
    private final BiFunction<Session, Sessions, HandlerTable> tables;
    private final Acceptor acceptor;
    private final Session root;
    private final Map<Long, Session> byId = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * @param tables makes a session's request table (its handlers bound to its context)
     */
    public Sessions(DaemonContext rootCtx, ObjectIds ids, BiFunction<Session, Sessions, HandlerTable> tables, Acceptor acceptor) {
        this.rootCtx = rootCtx;
        this.ids = ids;
        this.tables = tables;
        this.acceptor = acceptor;
        this.root = new Session(SessionScope.ROOT, rootCtx.config().socketPath(), rootCtx);
        root.bind(tables.apply(root, this), null);
        byId.put(0L, root);
    }

    public Session root() {
        return root;
    }

    /** The session {@code id} (0: the root session), or null. */
    public Session find(long id) {
        return byId.get(id);
    }

    /** Every live session but the root one. */
    public List<Session> list() {
        return byId.values().stream().filter(s -> !s.isRoot()).sorted((a, b) -> Long.compare(a.id(), b.id())).toList();
    }

    /**
     * Makes a session and starts accepting on its socket.
     *
     * @param limitBytes the session's memory limit (at most the pool's)
     */
    public Session create(boolean plasma, long limitBytes) {
        if (closed) {
            throw new VineyardException(Status.ALREADY_STOPPED, "new_session: the daemon is stopping");
        }
        long id = ids.nextObjectId();
        SessionScope scope = new SessionScope(id, plasma);
        String socket = rootCtx.config().socketPath() + "." + Session.text(id);
        BlobStore blobs = new BlobStore(rootCtx.blobs(), limitBytes, "session " + Session.text(id));
        Waits waits = new Waits();
        MetaStore meta = new MetaStore(blobs, ids, rootCtx.instanceId(), System::currentTimeMillis, waits);
        DaemonContext ctx = new DaemonContext(rootCtx, rootCtx.config().forSession(socket, blobs.limitBytes()),
                blobs, meta, waits, scope);
        Session s = new Session(scope, socket, ctx);
        Listener listener;
        try {
            listener = Listener.unix(socket);
        } catch (IOException e) {
            throw new VineyardException(Status.IO_ERROR, "new_session: cannot listen on " + socket + ": " + e.getMessage(), e);
        }
        s.bind(tables.apply(s, this), listener);
        byId.put(id, s);
        listener.start(false, fd -> acceptor.accept(s, fd));
        LOG.info("created {} on {} with a memory limit of {} bytes", s, socket, blobs.limitBytes());
        return s;
    }

    /**
     * After a session's last connection ended once it was closable: removes its socket and deletes its
     * objects and blobs (on the thread of that connection, outside the store lock for the socket).
     */
    void end(Session s) {
        byId.remove(s.id(), s);
        s.closeSocket();
        DaemonContext ctx = s.context();
        int[] deleted = new int[1];
        ctx.lockedRun(() -> deleted[0] = ctx.meta().clear(null).size());
        LOG.info("deleted {}: {} objects and blobs freed", s, deleted[0]);
    }

    /** On the thread of a session's connection that just ended (after it released what it held). */
    public void connectionEnded(Session s, long connectionId) {
        if (s.connectionEnded(connectionId)) {
            end(s);
        }
    }

    /** Whether a connection just accepted on {@code s}'s socket may be served. */
    public boolean connectionStarted(Session s) {
        return s.connectionStarted();
    }

    /** Daemon shutdown: stops accepting on every session's socket and removes them. */
    public void closeAll() {
        closed = true;
        for (Session s : byId.values()) {
            if (!s.isRoot()) {
                s.endForShutdown();
            }
        }
    }
}
