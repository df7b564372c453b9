package io.vineyard.server.session;

import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.daemon.SessionScope;
import io.vineyard.server.protocol.HandlerTable;
import io.vineyard.server.transport.Listener;

/**
 * One vineyard session: its own socket ({@code <socket>.S<id in 16 hex digits>}), its own objects,
 * names, blobs and streams ({@link DaemonContext}), and for the plasma kind its plasma ids
 * ({@link PlasmaIndex}). The root session (id 0) is the daemon's own socket and never ends.
 *
 * <p>Lifecycle, as vineyard's: {@code delete_session} marks the session closable and ends the
 * connection that sent it; the session ends when its last connection ends after that. Ending removes
 * the socket and deletes every object and blob of the session (blobs still held elsewhere, e.g. moved
 * to another session, follow their new owner). Unlike vineyard, the socket is removed before the
 * {@code delete_session} reply when no other connection is open, so a later connect fails at once
 * instead of being accepted and reset.
 *
 * <p>Thread-safety: the connection count and the closable flag are guarded by this object's monitor;
 * everything in the stores by the daemon's store lock.
 */
public final class Session {
    private final SessionScope scope;
    private final String socketPath;
    private final DaemonContext ctx;
    private final PlasmaIndex plasma;
    private HandlerTable handlers;
    private Listener listener;
    private int liveConnections;
    /** Connections that sent {@code delete_session} and are ending. */
    private final java.util.Set<Long> leaving = new java.util.HashSet<>();
    private boolean closable;
    private boolean ended;

    Session(SessionScope scope, String socketPath, DaemonContext ctx) {
        this.scope = scope;
        this.socketPath = socketPath;
        this.ctx = ctx;
        this.plasma = scope.plasma() ? new PlasmaIndex() : null;
    }

    void bind(HandlerTable table, Listener socket) {
        this.handlers = table;
        this.listener = socket;
    }

    /** vineyard's session id (0 for the root session). */
    public long id() {
        return scope.id();
    }

    public boolean isRoot() {
        return scope.id() == 0;
    }

    /** The {@code bulk_store_type} kind: plasma ids or object ids. */
    public boolean isPlasma() {
        return scope.plasma();
    }

    /** The socket clients of this session connect to. */
    public String socketPath() {
        return socketPath;
    }

    /** What this session's handlers work with. */
    public DaemonContext context() {
        return ctx;
    }

    public HandlerTable handlers() {
        return handlers;
    }

    /** The plasma ids of a plasma session (use under the store lock); null for the default kind. */
    public PlasmaIndex plasma() {
        return plasma;
    }

    /** The session's text form, {@code S<16 hex digits>}, as vineyard writes it. */
    public String name() {
        return text(scope.id());
    }

    static String text(long id) {
        return io.vineyard.common.ObjectIds.sessionText(id);
    }

    /** A connection was accepted on the session's socket; false when the session has ended meanwhile. */
    synchronized boolean connectionStarted() {
        if (ended) {
            return false;
        }
        liveConnections++;
        return true;
    }

    /** A connection ended; true when it was the last one of a closable session, which must now end. */
    synchronized boolean connectionEnded(long connectionId) {
        liveConnections--;
        leaving.remove(connectionId);
        if (liveConnections == 0 && closable && !ended) {
            ended = true;
            return true;
        }
        return false;
    }

    /**
     * {@code delete_session} from connection {@code connectionId}: the session becomes closable; when
     * every connection still open is ending after its own {@code delete_session}, the socket goes now
     * (before the reply).
     */
    void markClosable(long connectionId) {
        boolean last;
        synchronized (this) {
            closable = true;
            leaving.add(connectionId);
            last = liveConnections <= leaving.size();
        }
        if (last) {
            closeSocket();
        }
    }

    synchronized int liveConnections() {
        return liveConnections;
    }

    synchronized boolean closable() {
        return closable;
    }

    /** Stops accepting and removes the socket file (idempotent). */
    void closeSocket() {
        Listener l;
        synchronized (this) {
            l = listener;
            listener = null;
        }
        if (l != null) {
            l.close();
        }
    }

    /** Ends the session for a daemon shutdown: no more connections. */
    void endForShutdown() {
        synchronized (this) {
            ended = true;
        }
        closeSocket();
    }

    @Override
    public String toString() {
        return "session " + name() + (isPlasma() ? " (plasma)" : "");
    }
}
