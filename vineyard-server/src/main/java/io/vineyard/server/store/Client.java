package io.vineyard.server.store;

import java.util.HashSet;
import java.util.Set;

/**
 * One connection's hold on the store: the blobs it references (each at most once, as vineyard's
 * dependency tracker counts) and which store fds it has already received.
 *
 * <p>Guarded by the store lock, except {@link #sentFds}, which only the connection's own thread touches.
 */
public final class Client {
    private final long id;
    private final boolean rpc;
    final Set<Blob> links = new HashSet<>();
    private final Set<Integer> sentFds = new HashSet<>();

    public Client(long id, boolean rpc) {
        this.id = id;
        this.rpc = rpc;
    }

    public long id() {
        return id;
    }

    /** True for a TCP (RPC) connection, which never receives fds. */
    public boolean rpc() {
        return rpc;
    }

    /** Records that {@code fd} goes to this client; true the first time only. */
    public boolean markFdSent(int fd) {
        return sentFds.add(fd);
    }

    /** Number of blobs this client references (tests and status). */
    public int linkCount() {
        return links.size();
    }

    @Override
    public String toString() {
        return "connection " + id;
    }
}
