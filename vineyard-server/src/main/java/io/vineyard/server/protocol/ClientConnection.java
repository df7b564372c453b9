package io.vineyard.server.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;
import io.vineyard.common.posix.PosixException;
import io.vineyard.common.wire.FrameException;
import io.vineyard.common.wire.FrameSocket;
import io.vineyard.server.daemon.BusyWait;
import io.vineyard.server.daemon.ConnectionHoldings;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.daemon.RequestStats;
import io.vineyard.server.transport.Poller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One client connection and the thread that serves it: read a frame, decode it, dispatch it, write the
 * reply and any fds. Each request runs inside its own error boundary, so a bad request becomes an
 * error reply and the connection goes on; only framing errors and a dead peer end it. However it
 * ends, {@link ConnectionHoldings#close()} releases everything the connection held.
 *
 * <p>The connection runs on a virtual thread over a non-blocking socket (it parks in the
 * {@link Poller} where a read or write would block). The socket's buffers live in a confined arena
 * made and closed by that thread: closing a shared arena stops every thread of the JVM for a
 * handshake, which with a thousand connections made each disconnect cost the whole daemon.
 */
public final class ClientConnection implements Runnable, Peer {
    private static final Logger LOG = LoggerFactory.getLogger(ClientConnection.class);
    /** The longest excerpt of a client's request type that goes into a log line. */
    private static final int LOGGED_TYPE_CHARS = 80;
    /** The longest excerpt of an error message (which may quote the request) in a log line. */
    private static final int LOGGED_MESSAGE_CHARS = 400;

    private final DaemonContext ctx;
    private final HandlerTable handlers;
    private final int fd;
    private final boolean rpc;
    private final ConnectionHoldings holdings;
    private final CountDownLatch ended = new CountDownLatch(1);
    private final Consumer<ClientConnection> onEnd;
    private final Poller poller;
    private FrameSocket socket;
    /** Set once the fd is closed; guards {@link #shutdown()} against a reused fd number. */
    private boolean fdClosed;
    private boolean registered;
    private boolean exitRequested;
    /** Requests to serve without spinning first, and the current back-off. */
    private int skipSpins;
    private int spinBackoff;
    /** Time spent in socket writes while handling the current request (statistics). */
    private long writeNanos;

    /**
     * @param fd    the accepted socket (non-blocking: the thread waits for it through {@code poller});
     *              this connection closes it
     * @param onEnd run on the connection's thread after everything was released
     */
    public ClientConnection(DaemonContext ctx, HandlerTable handlers, Poller poller, int fd, long id, boolean rpc,
                            Consumer<ClientConnection> onEnd) {
        this.ctx = ctx;
        this.poller = poller;
        this.handlers = handlers;
        this.fd = fd;
        this.rpc = rpc;
        this.onEnd = onEnd;
        this.holdings = new ConnectionHoldings(ctx, id, rpc);
    }

    public long id() {
        return holdings.id();
    }

    @Override
    public boolean isRpc() {
        return rpc;
    }

    @Override
    public ConnectionHoldings holdings() {
        return holdings;
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
    public void run() {
        try {
            socket = FrameSocket.confinedNonBlocking(fd, false, poller);
            serve();
            LOG.trace("{} ended", this);
        } catch (FrameException | PosixException e) {
            // framing error or dead peer: the connection ends, the daemon goes on
            LOG.debug("{} ended abnormally: {}", this, e.getMessage());
        } catch (RuntimeException | Error e) {
            ctx.countUnexpectedError();
            LOG.error("{} failed", this, e);
        } finally {
            try {
                holdings.close();
            } finally {
                synchronized (this) {
                    fdClosed = true;
                    poller.forget(fd);
                    if (socket != null) {
                        socket.close();
                    } else {
                        Posix.close(fd);
                    }
                }
                onEnd.accept(this);
                ended.countDown();
            }
        }
    }

    private void serve() {
        BusyWait spin = ctx.busyWait();
        while (!exitRequested) {
            if (rpc) {
                quickAck();
            }
            if (skipSpins > 0) {
                skipSpins--;
            } else if (spin.beginSpin(this)) {
                try {
                    // a spin that finds nothing means this client is slow or the CPU is busy:
                    // back off (up to 64 requests), a spin that finds the request resets it
                    boolean found = socket.spinUntilReadable(spin.spinNanos(), spin::idle);
                    spinBackoff = found ? 0 : Math.min(64, Math.max(1, spinBackoff * 2));
                    skipSpins = spinBackoff;
                } finally {
                    spin.endSpin();
                }
            }
            byte[] body = socket.readFrame();
            if (body == null) {
                return;
            }
            long started = System.nanoTime();
            writeNanos = 0;
            spin.beginRequest(this);
            String type;
            try {
                type = handle(body);
            } finally {
                spin.endRequest();
            }
            ctx.stats().record(type, System.nanoTime() - started, writeNanos);
        }
    }

    /**
     * Acknowledges the next segment at once. vineyard's C++ client writes a frame's length and body
     * in two sends without TCP_NODELAY, so its body waits (Nagle) for the ACK of the length, which a
     * delayed ACK holds back up to 40 ms. Quick-ack mode is not sticky (sending a reply puts the
     * socket back in delayed-ACK mode), so it is set again before each read.
     */
    private void quickAck() {
        Posix.setIntOption(fd, Posix.IPPROTO_TCP, Posix.TCP_QUICKACK, 1);
    }

    /** Handles one request; returns its statistics entry. */
    private String handle(byte[] body) {
        JsonNode root;
        try {
            root = Json.parse(body);
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            // the log gets neither the excerpt nor the parser's message: both may quote a password
            refused(RequestStats.INVALID, Status.INVALID, "a frame of " + body.length + " bytes that is not JSON");
            send(Json.errorReply(Status.INVALID, "Failed to parse the JSON message: " + why
                    + ", input is '" + excerpt(body) + "'"));
            return RequestStats.INVALID;
        }
        JsonNode typeNode = root.isObject() ? root.get("type") : null;
        if (typeNode == null) {
            refused(RequestStats.INVALID, Status.INVALID, "a message without a 'type' field");
            send(Json.errorReply(Status.INVALID, "Invalid message: no 'type' field"));
            return RequestStats.INVALID;
        }
        if (!typeNode.isTextual()) {
            refused(RequestStats.INVALID, Status.INVALID, "a message whose 'type' is not a string");
            send(Json.errorReply(Status.INVALID, "Invalid message: 'type' must be a string, got "
                    + typeNode.getNodeType().name().toLowerCase() + " " + typeNode));
            return RequestStats.INVALID;
        }
        String type = typeNode.textValue();
        try {
            if (!registered && !type.equals("register_request")) {
                throw new VineyardException.Invalid("The connection is not registered yet, command is: " + type);
            }
            handlers.dispatch(this, type, (ObjectNode) root);
        } catch (VineyardException e) {
            refused(type, e.status(), e.getMessage());
            send(Json.errorReply(e.status(), e.getMessage()));
        } catch (FrameException | PosixException e) {
            throw e;
        } catch (RuntimeException e) {
            ctx.countUnexpectedError();
            ctx.stats().recordError(type, Status.UNKNOWN_ERROR);
            LOG.error("{}: {} failed", this, excerpt(type, LOGGED_TYPE_CHARS), e);
            send(Json.errorReply(Status.UNKNOWN_ERROR, type + " failed: " + e));
        }
        return type;
    }

    /**
     * Counts a refused request and logs it at debug. {@code why} is the error reply's message: no handler
     * puts a password in one (a refused register says only that the credentials did not match).
     */
    private void refused(String type, Status status, String why) {
        ctx.stats().recordError(type, status);
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} refused {}: {} (code {} {})", this, excerpt(type, LOGGED_TYPE_CHARS),
                    excerpt(why, LOGGED_MESSAGE_CHARS), status.code(), status);
        }
    }

    /** Text for a log line: at most {@code max} characters (a client's junk must not flood the log). */
    private static String excerpt(String text, int max) {
        return text == null || text.length() <= max ? text : text.substring(0, max) + "...";
    }

    @Override
    public String toString() {
        return (rpc ? "rpc" : "ipc") + " connection " + id();
    }

    /** The first bytes of a body, printable, for error messages. */
    private static String excerpt(byte[] body) {
        int n = Math.min(body.length, 256);
        String text = new String(body, 0, n, StandardCharsets.UTF_8).replace('\uFFFD', '?');
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            sb.append(c < 0x20 ? '?' : c);
        }
        return body.length > n ? sb + "..." : sb.toString();
    }

    @Override
    public void send(ObjectNode reply) {
        byte[] body = Json.write(reply);
        long t0 = System.nanoTime();
        socket.writeFrame(body);
        writeNanos += System.nanoTime() - t0;
    }

    @Override
    public void sendFd(int fdToPass) {
        long t0 = System.nanoTime();
        socket.sendFd(fdToPass);
        writeNanos += System.nanoTime() - t0;
    }

    @Override
    public boolean gone() {
        int revents = Posix.poll(fd, Posix.POLLRDHUP, 0);
        return revents < 0 || (revents & (Posix.POLLRDHUP | Posix.POLLHUP | 0x8 /* POLLERR */)) != 0;
    }

    /** Wakes the connection's thread so it ends (daemon shutdown); safe from any thread. */
    public synchronized void shutdown() {
        if (!fdClosed) {
            Posix.shutdown(fd);
        }
    }

    /** Waits up to {@code nanos} for the connection's thread to finish; true when it has. */
    public boolean awaitEnd(long nanos) {
        try {
            return ended.await(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
