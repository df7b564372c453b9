package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.posix.Posix;
import io.vineyard.common.wire.FrameSocket;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A UNIX-socket proxy between clients and a daemon that writes the conversation in the schema of
 * {@code shared/compat/transcripts} (frames, fds passed, connects and closes, in the order they pass
 * through). {@link RecordOurTranscripts} uses it to record our SDKs' stream conversations, which
 * {@link TranscriptReplayTest} then replays against a fresh daemon.
 */
final class RecordingProxy implements AutoCloseable {
    private final String daemonSocket;
    private final Path socket;
    private final int listenFd;
    private final List<String> records = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private int nextConn = 1;
    private volatile boolean closed;

    RecordingProxy(String daemonSocket, Path socket) {
        this.daemonSocket = daemonSocket;
        this.socket = socket;
        this.listenFd = Posix.socket(Posix.AF_UNIX, Posix.SOCK_STREAM);
        try (Arena arena = Arena.ofConfined()) {
            if (Posix.bind(listenFd, Posix.unixAddress(arena, socket.toString())) != 0 || Posix.listen(listenFd, 64) != 0) {
                throw new IllegalStateException(Posix.error("proxy listen on " + socket).getMessage());
            }
        }
        Thread acceptor = Thread.ofPlatform().daemon(true).start(this::acceptLoop);
        threads.add(acceptor);
    }

    String socket() {
        return socket.toString();
    }

    synchronized void note(String text) {
        ObjectNode r = Json.object();
        r.put("event", "note");
        r.put("text", text);
        records.add(r.toString());
    }

    private synchronized void record(ObjectNode r) {
        records.add(r.toString());
    }

    private void acceptLoop() {
        while (!closed) {
            int client = Posix.accept(listenFd);
            if (client < 0) {
                return;
            }
            int conn;
            synchronized (this) {
                conn = nextConn++;
            }
            int daemon = Posix.socket(Posix.AF_UNIX, Posix.SOCK_STREAM);
            try (Arena arena = Arena.ofConfined()) {
                if (Posix.connect(daemon, Posix.unixAddress(arena, daemonSocket)) != 0) {
                    Posix.close(client);
                    Posix.close(daemon);
                    continue;
                }
            }
            ObjectNode c = Json.object();
            c.put("conn", conn);
            c.put("event", "connect");
            c.put("transport", "unix");
            record(c);
            FrameSocket fromClient = new FrameSocket(client, true);
            FrameSocket toDaemon = new FrameSocket(daemon, true);
            Thread up = Thread.ofPlatform().daemon(true).start(() -> pumpUp(conn, fromClient, toDaemon));
            Thread down = Thread.ofPlatform().daemon(true).start(() -> pumpDown(conn, toDaemon, fromClient));
            synchronized (this) {
                threads.add(up);
                threads.add(down);
            }
        }
    }

    private void pumpUp(int conn, FrameSocket client, FrameSocket daemon) {
        try {
            byte[] frame;
            while ((frame = client.readFrame()) != null) {
                ObjectNode r = Json.object();
                r.put("conn", conn);
                r.put("dir", "client->server");
                r.set("msg", Json.parse(frame));
                record(r);
                daemon.writeFrame(frame);
            }
        } catch (RuntimeException | IOException e) {
            // the client went away mid-frame: recorded as a close
        }
        ObjectNode r = Json.object();
        r.put("conn", conn);
        r.put("event", "close");
        record(r);
        daemon.shutdown();
    }

    private void pumpDown(int conn, FrameSocket daemon, FrameSocket client) {
        try {
            byte[] frame;
            while ((frame = daemon.readFrame()) != null) {
                JsonNode msg = Json.parse(frame);
                ObjectNode r = Json.object();
                r.put("conn", conn);
                r.put("dir", "server->client");
                r.set("msg", msg);
                record(r);
                client.writeFrame(frame);
                int fds = (msg.path("fd").asInt(-1) >= 0 ? 1 : 0) + (msg.path("fds").isArray() ? msg.get("fds").size() : 0);
                for (int k = 0; k < fds; k++) {
                    int fd = daemon.receiveFd();
                    client.sendFd(fd);
                    ObjectNode p = Json.object();
                    p.put("conn", conn);
                    p.put("dir", "server->client");
                    p.put("fd_passed", Integer.toString(fd));
                    p.put("payload_hex", "14");
                    record(p);
                    Posix.close(fd);
                }
            }
        } catch (RuntimeException | IOException e) {
            // the client closed first
        }
        client.shutdown();
    }

    /** Writes what was recorded to {@code file}. */
    synchronized void write(Path file) throws IOException {
        Files.write(file, String.join("\n", records).concat("\n").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        closed = true;
        Posix.shutdown(listenFd);
        Posix.close(listenFd);
        List<Thread> all;
        synchronized (this) {
            all = new ArrayList<>(threads);
        }
        try {
            for (Thread t : all) {
                t.join(5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
