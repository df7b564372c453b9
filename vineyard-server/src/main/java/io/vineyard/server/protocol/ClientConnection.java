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
import io.vineyard.server.VineyardServer;
import io.vineyard.server.store.Client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client connection and the thread that serves it: read a frame, decode it, dispatch it, write the
 * reply and any fds. Each request runs inside its own error boundary, so a bad request becomes an
 * error reply and the connection goes on; only framing errors and a dead peer end it. However it
 * ends, everything the connection held is released.
 */
public final class ClientConnection implements Runnable {
    /** Requests that ended in an unexpected exception (a daemon bug, answered with UnknownError). */
    public static final AtomicLong UNEXPECTED_ERRORS = new AtomicLong();

    /** Log why connections end ({@code VINEYARDD_DEBUG=1}). */
    private static final boolean DEBUG = "1".equals(System.getenv("VINEYARDD_DEBUG"));

    /**
     * Threads spinning for their next request right now: at most one per spare CPU, and only while no
     * other connection is being served (under load, spinning would take a core from real work).
     */
    private static final java.util.concurrent.atomic.AtomicInteger SPINNERS = new java.util.concurrent.atomic.AtomicInteger();
    /** Threads handling a request right now. */
    private static final java.util.concurrent.atomic.AtomicInteger BUSY = new java.util.concurrent.atomic.AtomicInteger();
    /** The connection whose request the daemon read last: only it may spin (one client at a time). */
    private static volatile ClientConnection lastServed;
    private static final int MAX_SPINNERS = Math.max(0, Runtime.getRuntime().availableProcessors() - 1);

    private final VineyardServer server;
    private final RequestDispatcher dispatcher;
    private final FrameSocket socket;
    private final Client client;
    private final CountDownLatch ended = new CountDownLatch(1);
    private boolean registered;
    /** Requests to serve without spinning first, and the current back-off. */
    private int skipSpins;
    private int spinBackoff;
    /** Time spent in socket writes while handling the current request (statistics). */
    private long writeNanos;
    private boolean exitRequested;

    public ClientConnection(VineyardServer server, RequestDispatcher dispatcher, FrameSocket socket, long id,
                            boolean rpc) {
        this.server = server;
        this.dispatcher = dispatcher;
        this.socket = socket;
        this.client = new Client(id, rpc);
    }

    public long id() {
        return client.id();
    }

    public boolean isRpc() {
        return client.rpc();
    }

    Client client() {
        return client;
    }

    FrameSocket socket() {
        return socket;
    }

    boolean registered() {
        return registered;
    }

    void markRegistered() {
        registered = true;
    }

    void requestExit() {
        exitRequested = true;
    }

    @Override
    public void run() {
        try {
            long spinNanos = server.config().spinMicros() * 1000L;
            while (!exitRequested) {
                if (spinNanos > 0 && skipSpins > 0) {
                    skipSpins--;
                } else if (spinNanos > 0 && lastServed == this && BUSY.get() == 0) {
                    if (SPINNERS.incrementAndGet() <= MAX_SPINNERS) {
                        // a spin that finds nothing means this client is slow or the CPU is busy:
                        // back off (up to 64 requests), a spin that finds the request resets it
                        boolean found = socket.spinUntilReadable(spinNanos, () -> BUSY.get() == 0);
                        spinBackoff = found ? 0 : Math.min(64, Math.max(1, spinBackoff * 2));
                        skipSpins = spinBackoff;
                    }
                    SPINNERS.decrementAndGet();
                }
                byte[] body = socket.readFrame();
                if (body == null) {
                    break;
                }
                long started = System.nanoTime();
                writeNanos = 0;
                lastServed = this;
                BUSY.incrementAndGet();
                String type;
                try {
                    type = handle(body);
                } finally {
                    BUSY.decrementAndGet();
                }
                dispatcher.stats().record(type, System.nanoTime() - started, writeNanos);
            }
        } catch (FrameException | PosixException e) {
            // framing error or dead peer: the connection ends, the daemon goes on
            if (DEBUG) {
                System.err.println("vineyardd: connection " + id() + " closed: " + e.getMessage());
            }
        } catch (RuntimeException e) {
            UNEXPECTED_ERRORS.incrementAndGet();
            System.err.println("vineyardd: connection " + id() + " failed: " + e);
        } finally {
            try {
                server.locked(() -> {
                    server.blobs().disconnect(client);
                    return null;
                });
            } finally {
                server.connectionClosed(this);
                socket.close();
                ended.countDown();
            }
        }
    }

    /** Handles one request; returns its type for the statistics ({@code <invalid>} when it has none). */
    private String handle(byte[] body) {
        JsonNode root;
        try {
            root = Json.parse(body);
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            send(Json.errorReply(Status.INVALID, "Failed to parse the JSON message: " + why
                    + ", input is '" + excerpt(body) + "'"));
            return "<invalid>";
        }
        JsonNode typeNode = root.isObject() ? root.get("type") : null;
        if (typeNode == null) {
            send(Json.errorReply(Status.INVALID, "Invalid message: no 'type' field"));
            return "<invalid>";
        }
        if (!typeNode.isTextual()) {
            send(Json.errorReply(Status.INVALID, "Invalid message: 'type' must be a string, got "
                    + typeNode.getNodeType().name().toLowerCase() + " " + typeNode));
            return "<invalid>";
        }
        String type = typeNode.textValue();
        try {
            if (!registered && !type.equals("register_request")) {
                throw new VineyardException.Invalid("The connection is not registered yet, command is: " + type);
            }
            dispatcher.dispatch(this, type, (ObjectNode) root);
        } catch (VineyardException e) {
            send(Json.errorReply(e.status(), e.getMessage()));
        } catch (FrameException | PosixException e) {
            throw e;
        } catch (RuntimeException e) {
            UNEXPECTED_ERRORS.incrementAndGet();
            send(Json.errorReply(Status.UNKNOWN_ERROR, type + " failed: " + e));
        }
        return type;
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

    /** Writes one reply frame. */
    void send(ObjectNode reply) {
        byte[] body = Json.write(reply);
        long t0 = System.nanoTime();
        socket.writeFrame(body);
        writeNanos += System.nanoTime() - t0;
    }

    /** Passes a store fd (IPC only). */
    void sendFd(int fd) {
        long t0 = System.nanoTime();
        socket.sendFd(fd);
        writeNanos += System.nanoTime() - t0;
    }

    /** True when the peer has closed or reset the connection (checked while a request waits). */
    public boolean peerGone() {
        int revents = Posix.poll(socket.fd(), Posix.POLLRDHUP, 0);
        return revents < 0 || (revents & (Posix.POLLRDHUP | Posix.POLLHUP | 0x8 /* POLLERR */)) != 0;
    }

    VineyardServer server() {
        return server;
    }

    /** Wakes the connection's thread so it ends (daemon shutdown). */
    public void shutdown() {
        socket.shutdown();
    }

    /** Waits up to {@code nanos} for the connection's thread to finish. */
    public void awaitEnd(long nanos) {
        try {
            ended.await(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
