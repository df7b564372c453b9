package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.posix.Posix;
import io.vineyard.common.posix.PosixException;
import io.vineyard.common.wire.FrameException;
import io.vineyard.common.wire.FrameSocket;

import java.io.IOException;
import java.lang.foreign.Arena;

/** A bare socket to the daemon for bad-input tests: sends anything, reads replies or notices a close. */
final class RawClient implements AutoCloseable {
    final FrameSocket socket;

    RawClient(String path, long timeoutMs) {
        this(path, 0, timeoutMs);
    }

    /** A bare TCP connection to a daemon's RPC port on 127.0.0.1. */
    static RawClient tcp(int port, long timeoutMs) {
        return new RawClient(null, port, timeoutMs);
    }

    private RawClient(String path, int port, long timeoutMs) {
        int fd = Posix.socket(path == null ? Posix.AF_INET : Posix.AF_UNIX, Posix.SOCK_STREAM);
        try (Arena arena = Arena.ofConfined()) {
            var address = path == null ? Posix.inetAddress(arena, new byte[] {127, 0, 0, 1}, port) : Posix.unixAddress(arena, path);
            if (Posix.connect(fd, address) != 0) {
                throw Posix.error("connect " + (path == null ? "127.0.0.1:" + port : path));
            }
        }
        Posix.setReceiveTimeout(fd, timeoutMs);
        socket = new FrameSocket(fd, true);
    }

    static RawClient registered(String path) {
        RawClient c = new RawClient(path, 10_000);
        ObjectNode reg = Json.object();
        reg.put("type", "register_request");
        reg.put("version", "0.24.4");
        reg.put("store_type", 1);
        JsonNode reply = c.send(reg);
        if (!reply.path("type").asText().equals("register_reply")) {
            throw new IllegalStateException("register failed: " + reply);
        }
        return c;
    }

    JsonNode send(JsonNode msg) {
        return sendBody(Json.write(msg));
    }

    JsonNode sendBody(byte[] body) {
        socket.writeFrame(body);
        return read();
    }

    /** The next reply, or null when the daemon closed the connection. */
    JsonNode read() {
        try {
            byte[] reply = socket.readFrame();
            if (reply == null) {
                return null;
            }
            JsonNode node = Json.parse(reply);
            for (int i = 0; i < node.path("fds").size() + (node.path("fd").asInt(-1) >= 0 ? 1 : 0); i++) {
                Posix.close(socket.receiveFd());
            }
            return node;
        } catch (FrameException e) {
            return null;
        } catch (PosixException e) {
            if (e.errno() == Posix.EAGAIN) {
                throw e; // a timeout is not a close
            }
            return null;
        } catch (IOException e) {
            throw new AssertionError("the daemon sent a reply that is not JSON", e);
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
