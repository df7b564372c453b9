package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.wire.FrameSocket;
import io.vineyard.server.daemon.ConnectionHoldings;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.protocol.Peer;

import java.util.ArrayList;
import java.util.List;

/** A connection without a socket: records the replies and fds a handler sends. */
final class TestPeer implements Peer {
    final ConnectionHoldings holdings;
    final boolean rpc;
    final List<ObjectNode> replies = new ArrayList<>();
    final List<Integer> passedFds = new ArrayList<>();
    FrameSocket socket;
    boolean registered;
    boolean exitRequested;
    volatile boolean gone;

    TestPeer(DaemonContext ctx, long id, boolean rpc) {
        this.holdings = new ConnectionHoldings(ctx, id, rpc);
        this.rpc = rpc;
    }

    @Override
    public ConnectionHoldings holdings() {
        return holdings;
    }

    @Override
    public boolean isRpc() {
        return rpc;
    }

    @Override
    public synchronized void send(ObjectNode reply) {
        replies.add(reply);
    }

    @Override
    public synchronized void sendFd(int fd) {
        passedFds.add(fd);
    }

    @Override
    public FrameSocket socket() {
        return socket;
    }

    @Override
    public void markRegistered() {
        registered = true;
    }

    @Override
    public void requestExit() {
        exitRequested = true;
    }

    @Override
    public boolean gone() {
        return gone;
    }

    synchronized ObjectNode last() {
        return replies.get(replies.size() - 1);
    }
}
