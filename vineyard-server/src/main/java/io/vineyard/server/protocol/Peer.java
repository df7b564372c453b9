package io.vineyard.server.protocol;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.wire.FrameSocket;
import io.vineyard.server.daemon.ConnectionHoldings;

/** The connection a request came from, as its handler sees it. */
public interface Peer {
    /** Everything this connection holds in the daemon. */
    ConnectionHoldings holdings();

    /** True for a TCP (RPC) connection, which never receives fds. */
    boolean isRpc();

    /** Writes one reply frame. */
    void send(ObjectNode reply);

    /** Passes a file's fd right after a reply (IPC only). */
    void sendFd(int fd);

    /** The socket itself, for bulk transfers that follow a reply (RPC blob bytes). */
    FrameSocket socket();

    /** The connection registered ({@code register_request} succeeded). */
    void markRegistered();

    /** The connection ends after this request ({@code exit_request}). */
    void requestExit();

    /** True when the peer has closed or reset the connection (checked while a request waits). */
    boolean gone();
}
