package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.posix.Posix;
import io.vineyard.common.posix.PosixException;
import io.vineyard.common.wire.FrameException;
import io.vineyard.common.wire.FrameSocket;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.mindrot.jbcrypt.BCrypt;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Replays the client side of every recorded conversation in {@code shared/compat/transcripts} against a
 * fresh daemon and compares each reply's shape with the recorded one: keys, value types, reply types,
 * status codes, booleans, list lengths and the points where fds are passed. Ids, signatures, pointers,
 * timestamps, fds, socket paths and ports are normalised: ids the recording shows in a reply are mapped
 * to ours and translated in later requests.
 *
 * <p>Deliberate differences (see the README): where the recorded vineyardd crashed (invalid UTF-8, a
 * non-string {@code type}), ours answers {@code Invalid} (code 1) and stays up; the replay checks that.
 */
@org.junit.jupiter.api.Tag("slow")
class TranscriptReplayTest {
    /** Numbers compared exactly, beyond status codes. */
    private static final Set<String> EXACT_NUMBERS = Set.of("code", "num", "data_size", "memory_limit",
            "instance_id", "deferred_requests", "size", "size_", "session_id");
    /** Recorded files whose server crashed where ours must answer Invalid instead. */
    private static final Set<String> CRASHED_IN_RECORDING = Set.of("probe_non_utf8_body.jsonl", "probe_type_not_string.jsonl");
    /** Recorded files where vineyardd never answered (no_reply) and ours answers StreamFailed (43) instead. */
    private static final Set<String> HUNG_IN_RECORDING = Set.of("probe_stream_writer_crash.jsonl");
    /** Every recording of {@code transcripts-wave2} (next to {@link #transcriptDir()}). */
    private static final List<String> WAVE2_REPLAYED = List.of("cpp_arrow_data_structure_test.jsonl",
            "cpp_dataframe_test.jsonl", "cpp_global_object_test.jsonl", "cpp_hashmap_test.jsonl",
            "cpp_list_object_test.jsonl", "cpp_sequence_test.jsonl", "cpp_tensor_test.jsonl",
            "cpp_stream_test.jsonl", "probe_stream_open_twice.jsonl", "probe_stream_writer_crash.jsonl",
            "cpp_session_test.jsonl", "cpp_plasma_test.jsonl", "cpp_plasma_test_tail.jsonl");
    /** The note that names the session socket of the next connect: {@code conn N connects to the session socket P}. */
    private static final java.util.regex.Pattern SESSION_NOTE =
            java.util.regex.Pattern.compile("conn (\\d+) connects to the session socket (\\S+)");

    static Path transcriptDir() {
        String configured = System.getProperty("vineyard.transcripts");
        Path p = configured != null ? Path.of(configured) : Path.of("../../shared/compat/transcripts");
        if (!Files.isDirectory(p)) {
            p = Path.of("../../shared/compat/transcripts");
        }
        return p;
    }

    @TestFactory
    Stream<DynamicTest> replayEveryTranscript() throws IOException {
        Path dir = transcriptDir();
        assertTrue(Files.isDirectory(dir), "transcripts not found at " + dir.toAbsolutePath());
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(f -> f.toString().endsWith(".jsonl")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no transcripts in " + dir);
        Path wave2 = dir.resolveSibling(dir.getFileName() + "-wave2");
        assertTrue(Files.isDirectory(wave2), "wave-2 transcripts not found at " + wave2.toAbsolutePath());
        files = Stream.concat(files.stream(), WAVE2_REPLAYED.stream().map(wave2::resolve)).toList();
        // our SDKs' stream conversations with our daemon (RecordOurTranscripts): regressions of our own replies
        try (Stream<Path> s = Files.list(Path.of("src/test/resources/transcripts-ours"))) {
            files = Stream.concat(files.stream(), s.filter(f -> f.toString().endsWith(".jsonl")).sorted()).toList();
        }
        String only = System.getProperty("vineyard.replay.only", ""); // a part of the file names to replay, for a quick run
        return files.stream().filter(f -> f.getFileName().toString().contains(only)).map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> new Replay(f).run()));
    }

    /** One replay of one file against one fresh daemon. */
    static final class Replay {
        private final Path file;
        private final String name;
        private final List<ObjectNode> records = new ArrayList<>();
        private final Map<Integer, Peer> peers = new HashMap<>();
        private final Map<BigInteger, BigInteger> ids = new HashMap<>();
        private final Map<BigInteger, byte[]> uploaded = new HashMap<>();
        /** Recorded session socket paths to ours (learnt from new_session replies). */
        private final Map<String, String> sessionSockets = new HashMap<>();
        /** The session socket each announced connection goes to (recorded path). */
        private final Map<Integer, String> sessionOfConn = new HashMap<>();
        private final boolean excerpt;
        private final boolean crashed;
        private boolean afterCrashPoint;
        private DaemonProcess daemon;
        private Path scratch;

        Replay(Path file) throws IOException {
            this.file = file;
            this.name = file.getFileName().toString();
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank()) {
                    records.add((ObjectNode) Json.MAPPER.readTree(line));
                }
            }
            this.excerpt = records.stream().anyMatch(r -> r.path("text").asText().startsWith("EXCERPT"));
            this.crashed = CRASHED_IN_RECORDING.contains(name);
        }

        void run() throws Exception {
            List<String> args = new ArrayList<>();
            scratch = Files.createTempDirectory("replay-");
            if (name.equals("cpp_auth_test.jsonl")) {
                Path htpasswd = scratch.resolve("htpasswd");
                Files.writeString(htpasswd, "test1:" + BCrypt.hashpw("pass1", BCrypt.gensalt(5)).replace("$2a$", "$2y$") + "\n");
                args.add("--htpasswd=" + htpasswd);
            }
            daemon = DaemonProcess.start(args.toArray(String[]::new));
            try {
                for (int i = 0; i < records.size(); i++) {
                    step(i);
                }
                for (Peer p : peers.values()) {
                    p.close();
                }
                assertTrue(daemon.isAlive(), name + ": the daemon died");
                if (args.isEmpty()) {
                    // the daemon still serves a new client after the whole conversation
                    assertTrue(daemon.status().has("memory_usage"), name + ": no instance_status after the replay");
                }
            } finally {
                daemon.close();
                try (Stream<Path> s = Files.walk(scratch)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }

        private String where(int i) {
            return name + " record " + (i + 1);
        }

        private void step(int i) throws Exception {
            ObjectNode r = records.get(i);
            String event = r.path("event").asText("");
            if (event.equals("note")) {
                var m = SESSION_NOTE.matcher(r.path("text").asText());
                if (m.find()) {
                    sessionOfConn.put(Integer.parseInt(m.group(1)), m.group(2));
                }
                return;
            }
            if (event.equals("truncated") || event.equals("server_exited")) {
                return;
            }
            int connId = r.path("conn").asInt();
            String dir = r.path("dir").asText("");
            switch (event) {
                case "connect" -> peers.put(connId, connect(connId, r.path("transport").asText("unix"), i));
                case "close" -> {
                    Peer p = peers.remove(connId);
                    if (p != null) {
                        p.close();
                    }
                }
                case "eof" -> expectEof(i, peer(connId, i));
                case "no_reply" -> expectSilence(i, peer(connId, i));
                case "error" -> {
                    Peer p = peers.get(connId);
                    if (p != null && p.socket == null) {
                        // vineyardd accepted on a deleted session's socket and reset; ours removed the socket
                        assertEquals("ECONNRESET", r.path("errno").asText(), where(i));
                        return;
                    }
                    // the recorded server had crashed; ours is alive: the connection works
                    assertTrue(crashed, where(i) + ": unexpected recorded error event");
                }
                default -> {
                    Peer p = peer(connId, i);
                    if (p.socket == null) {
                        // refused at connect (a deleted session): the recorded client's send is never made
                        assertTrue(dir.equals("client->server"), where(i) + ": a reply on a connection our daemon refused");
                        return;
                    }
                    if (dir.equals("client->server")) {
                        send(i, p, r);
                    } else if (dir.equals("server->client")) {
                        receive(i, p, r);
                    }
                }
            }
        }

        private Peer peer(int connId, int i) {
            Peer p = peers.get(connId);
            if (p == null) {
                assertTrue(excerpt, where(i) + ": connection " + connId + " used before connect");
                p = records.get(i).path("msg").path("type").asText().equals("delete_session_request")
                        ? open(newSession()) : open(daemon.socket());
                register(p);
                // the recorded connection received the store fd before the excerpt: fetch it now
                ObjectNode warm = Json.object();
                warm.put("type", "create_buffer_request");
                warm.put("size", 1);
                p.socket.writeFrame(Json.write(warm));
                JsonNode blob = readReply(p).body.get("id");
                ObjectNode drop = Json.object();
                drop.put("type", "del_data_request");
                drop.putArray("id").add(blob);
                drop.put("fastpath", true);
                p.socket.writeFrame(Json.write(drop));
                readReply(p);
                peers.put(connId, p);
            }
            return p;
        }

        /**
         * Connects as record {@code i} does: to the daemon's socket, its RPC port, or (after a note)
         * the session socket our daemon gave for the recorded one. A session socket that our daemon has
         * removed (the session was deleted) gives a refused peer.
         */
        private Peer connect(int connId, String transport, int i) {
            if (transport.equals("tcp")) {
                return open(null);
            }
            String recorded = sessionOfConn.remove(connId);
            if (recorded == null) {
                return open(daemon.socket());
            }
            String ours = sessionSockets.get(recorded);
            assertTrue(ours != null, where(i) + ": no new_session reply named " + recorded);
            if (!Files.exists(Path.of(ours))) {
                return new Peer(null, false);
            }
            return open(ours);
        }

        /** A new session of our daemon (an excerpt's connection that began in a session). */
        private String newSession() {
            Peer root = open(daemon.socket());
            try {
                register(root);
                ObjectNode req = Json.object();
                req.put("type", "new_session_request");
                req.put("bulk_store_type", 1);
                root.socket.writeFrame(Json.write(req));
                return readReply(root).body.get("socket_path").asText();
            } finally {
                root.close();
            }
        }

        /** Registers a connection the recording does not show (as a default-store client). */
        private void register(Peer p) {
            ObjectNode reg = Json.object();
            reg.put("type", "register_request");
            reg.put("version", "0.24.4");
            reg.put("store_type", 1);
            p.socket.writeFrame(Json.write(reg));
            readReply(p);
        }

        /** Connects to {@code unixPath}, or to the RPC port when it is null. */
        private Peer open(String unixPath) {
            boolean tcp = unixPath == null;
            int fd = Posix.socket(tcp ? Posix.AF_INET : Posix.AF_UNIX, Posix.SOCK_STREAM);
            try (Arena arena = Arena.ofConfined()) {
                var addr = tcp ? Posix.inetAddress(arena, new byte[] {127, 0, 0, 1}, daemon.rpcPort())
                        : Posix.unixAddress(arena, unixPath);
                assertEquals(0, Posix.connect(fd, addr), "connect to the daemon at " + (tcp ? "its RPC port" : unixPath));
            }
            Posix.setReceiveTimeout(fd, 20_000);
            return new Peer(new FrameSocket(fd, true), tcp);
        }

        private void send(int i, Peer p, ObjectNode r) {
            if (r.has("raw_hex")) {
                p.socket.writeRaw(HexFormat.of().parseHex(r.get("raw_hex").asText()));
                p.rawPending = true;
                return;
            }
            if (r.has("binary_frame_hex")) {
                byte[] frame = HexFormat.of().parseHex(r.get("binary_frame_hex").asText());
                p.socket.writeFrame(frame);
                if (p.lastCreatedRemote != null) {
                    uploaded.put(p.lastCreatedRemote, unzstd(frame));
                }
                return;
            }
            JsonNode msg = r.get("msg");
            if (crashed && !afterCrashPoint && msg.isObject() && msg.has("type") && !msg.get("type").isTextual()) {
                afterCrashPoint = true;
            }
            JsonNode translated = translate(msg);
            if (excerpt) {
                precreateUnknownBlobs(p, msg);
                translated = translate(msg);
            }
            if (translated.isObject() && translated.has("path") && translated.get("path").asText().startsWith("/run/")) {
                ((ObjectNode) translated).put("path", scratch.resolve("disk-blob").toString());
            }
            p.socket.writeFrame(Json.write(translated));
            String type = msg.path("type").asText("");
            boolean deferred = msg.path("wait").asBoolean(false) || type.equals("exit_request")
                    || type.equals("release_buffers_request") && !msg.path("reply").asBoolean(true) // one-way
                    || type.contains("_stream_chunk_") && replyWaitsForAnotherConnection(i, r.path("conn").asInt());
            if (!deferred) {
                // serialise the daemon's work in the recorded order: take the reply now, compare it later
                Reply reply = readReply(p).answering(translated);
                p.pending.add(reply);
                if (type.equals("create_remote_buffer_request")) {
                    p.lastCreatedRemote = reply.body.get("id").bigIntegerValue();
                } else if (type.equals("get_remote_buffers_request")) {
                    reply.body.path("payloads").forEach(pl -> {
                        if (pl.path("data_size").asLong() > 0) {
                            p.remoteBlobs.add(pl.get("object_id").bigIntegerValue());
                        }
                    });
                }
            }
        }

        /**
         * True when the recorded reply to request {@code i} comes only after another connection sent
         * something (a stream pull held back until the writer pushes), or never comes: its reply is
         * read when the recording shows it, while the other connections go on.
         */
        private boolean replyWaitsForAnotherConnection(int i, int conn) {
            for (int k = i + 1; k < records.size(); k++) {
                ObjectNode r = records.get(k);
                int c = r.path("conn").asInt(-1);
                String dir = r.path("dir").asText("");
                if (c == conn && (dir.equals("server->client") || r.path("event").asText("").equals("no_reply"))) {
                    return !dir.equals("server->client");
                }
                if (c != conn && c >= 0 && dir.equals("client->server")) {
                    return true;
                }
            }
            return true;
        }

        /** An excerpt refers to blobs created before it begins: create stand-ins so the ids exist. */
        private void precreateUnknownBlobs(Peer p, JsonNode msg) {
            if (!msg.path("type").asText().equals("seal_request")) {
                return;
            }
            BigInteger id = msg.get("object_id").bigIntegerValue();
            if (!ids.containsKey(id)) {
                ObjectNode create = Json.object();
                create.put("type", "create_buffer_request");
                create.put("size", 1);
                p.socket.writeFrame(Json.write(create));
                Reply reply = readReply(p);
                ids.put(id, reply.body.get("id").bigIntegerValue());
            }
        }

        private Reply readReply(Peer p) {
            byte[] body = p.socket.readFrame();
            assertTrue(body != null, name + ": the daemon closed the connection instead of replying");
            JsonNode node;
            try {
                node = Json.parse(body);
            } catch (IOException e) {
                throw new AssertionError(name + ": reply is not JSON", e);
            }
            int fds = 0;
            if (!p.tcp) {
                if (node.path("fd").asInt(-1) >= 0) {
                    fds++;
                }
                if (node.path("fds").isArray()) {
                    fds += node.get("fds").size();
                }
                for (int k = 0; k < fds; k++) {
                    Posix.close(p.socket.receiveFd());
                }
            }
            return new Reply(node, fds, null);
        }

        private void receive(int i, Peer p, ObjectNode r) {
            if (r.has("fd_passed")) {
                assertTrue(p.fdsFromLastReply > 0, where(i) + ": the recording passes an fd here, the daemon did not");
                p.fdsFromLastReply--;
                return;
            }
            if (r.has("binary_frame_hex")) {
                byte[] ours = p.socket.readFrame();
                byte[] recorded = HexFormat.of().parseHex(r.get("binary_frame_hex").asText());
                byte[] expected = unzstd(recorded);
                byte[] actual = unzstd(ours);
                assertEquals(expected.length, actual.length, where(i) + ": decompressed remote blob size");
                BigInteger blob = p.remoteBlobs.poll();
                byte[] known = blob == null ? null : uploaded.get(blob);
                if (known != null) {
                    // bytes uploaded over RPC in this replay must come back unchanged (bytes written
                    // through shared memory are not in the recordings, so only sizes are compared there)
                    assertEquals(HexFormat.of().formatHex(known), HexFormat.of().formatHex(actual),
                            where(i) + ": remote blob bytes");
                }
                return;
            }
            assertEquals(0, p.fdsFromLastReply, where(i) + ": the daemon passed an fd the recording does not show");
            Reply ours;
            if (!p.pending.isEmpty()) {
                ours = p.pending.poll();
            } else if (excerpt && p.rawPending == false && r.get("msg").has("created")) {
                // a reply to a request made before the excerpt begins: make the same request
                ObjectNode create = Json.object();
                create.put("type", "create_buffer_request");
                create.put("size", r.get("msg").get("created").get("data_size").asLong());
                p.socket.writeFrame(Json.write(create));
                ours = readReply(p);
                ours = new Reply(ours.body, 0, create); // its fd went out before the excerpt begins
            } else if (excerpt && !p.rawPending) {
                return; // a reply to a request that the excerpt does not show
            } else {
                ours = readReply(p);
            }
            p.rawPending = false;
            p.fdsFromLastReply = ours.fds;
            JsonNode recorded = r.get("msg");
            if (crashed && afterCrashPoint) {
                // the recorded daemon died here; ours answers Invalid to the bad request and then serves on
                assertEquals(1, ours.body.path("code").asInt(), where(i) + ": expected Invalid, got " + ours.body);
                return;
            }
            try {
                compare(recorded, ours.body, where(i) + " " + recorded.path("type").asText("error"));
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n  request: " + ours.request + "\n  vineyard: " + recorded
                        + "\n  ours:     " + ours.body, e);
            }
        }

        private void expectEof(int i, Peer p) {
            if (crashed && p.rawPending) {
                afterCrashPoint = true;
            }
            if (crashed && afterCrashPoint) {
                Reply ours = !p.pending.isEmpty() ? p.pending.poll() : readReply(p);
                assertEquals(1, ours.body.path("code").asInt(), where(i) + ": expected Invalid instead of a crash, got " + ours.body);
                p.rawPending = false;
                return;
            }
            try {
                byte[] body = p.socket.readFrame();
                if (body != null) {
                    fail(where(i) + ": expected the daemon to close, got " + new String(body, StandardCharsets.UTF_8));
                }
            } catch (FrameException | PosixException e) {
                // closed mid-frame or reset: closed either way
            }
        }

        private void expectSilence(int i, Peer p) {
            if (HUNG_IN_RECORDING.contains(name)) {
                // vineyardd leaves the reader of a stream whose writer died waiting for ever; ours answers
                Reply ours = !p.pending.isEmpty() ? p.pending.poll() : readReply(p);
                assertEquals(43, ours.body.path("code").asInt(), where(i) + ": expected StreamFailed, got " + ours.body);
                return;
            }
            if (!p.pending.isEmpty()) {
                fail(where(i) + ": the daemon answered where the recording shows no reply: " + p.pending.peek().body);
            }
            // nothing may arrive: the only way to check an absence is a bounded look
            int revents = Posix.poll(p.socket.fd(), Posix.POLLIN, 300);
            assertEquals(0, revents & Posix.POLLIN, where(i) + ": the daemon sent something where the recording shows silence");
        }

        // ---- shape comparison and id mapping ------------------------------------------------------

        private void compare(JsonNode recorded, JsonNode ours, String path) {
            if (recorded.isObject()) {
                assertTrue(ours.isObject(), path + ": expected an object, got " + ours);
                compareObjects((ObjectNode) recorded, (ObjectNode) ours, path);
                return;
            }
            if (recorded.isArray()) {
                assertTrue(ours.isArray(), path + ": expected an array, got " + ours);
                assertEquals(recorded.size(), ours.size(), path + ": array length (ours " + ours + ")");
                for (int k = 0; k < recorded.size(); k++) {
                    compare(recorded.get(k), ours.get(k), path + "[" + k + "]");
                }
                return;
            }
            assertEquals(category(recorded), category(ours), path + ": value type (recorded " + recorded + ", ours " + ours + ")");
            String key = path.substring(path.lastIndexOf('.') + 1);
            if (recorded.isBoolean() || key.equals("type") || key.equals("typename")) {
                assertEquals(recorded, ours, path);
            } else if (recorded.isIntegralNumber() && EXACT_NUMBERS.contains(key)
                    && !(key.equals("session_id") && recorded.longValue() != 0)) {
                assertEquals(recorded.asText(), ours.asText(), path);
            } else if (key.equals("socket_path") && recorded.isTextual()) {
                sessionSockets.put(recorded.asText(), ours.asText());
            } else {
                learn(recorded, ours);
            }
        }

        private void compareObjects(ObjectNode recorded, ObjectNode ours, String path) {
            List<String> recordedIdKeys = new ArrayList<>();
            List<String> ourIdKeys = new ArrayList<>();
            for (Iterator<String> it = recorded.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (isIdText(k)) {
                    recordedIdKeys.add(k);
                } else if (k.equals("extensions") && "register_reply".equals(recorded.path("type").asText())) {
                    // our own recordings: every extension served then is still served (later ones may be added)
                    List<String> now = new ArrayList<>();
                    ours.path("extensions").forEach(e -> now.add(e.asText()));
                    recorded.get(k).forEach(e -> assertTrue(now.contains(e.asText()),
                            path + ": extension " + e + " no longer advertised (ours " + now + ")"));
                } else {
                    assertTrue(ours.has(k), path + ": missing key '" + k + "' in " + ours);
                    compare(recorded.get(k), ours.get(k), path + "." + k);
                }
            }
            for (Iterator<String> it = ours.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (isIdText(k)) {
                    ourIdKeys.add(k);
                } else if (!(k.equals("extensions") && "register_reply".equals(ours.path("type").asText()))) {
                    // the one key we add to vineyard's replies: the extensions this daemon serves
                    assertTrue(recorded.has(k), path + ": extra key '" + k + "' (recorded " + recorded + ")");
                }
            }
            assertEquals(recordedIdKeys.size(), ourIdKeys.size(), path + ": number of id keys (ours " + ourIdKeys + ")");
            // pair id keys: known ids first, then the rest in order
            List<String> unmatched = new ArrayList<>(ourIdKeys);
            List<String> pending = new ArrayList<>();
            for (String rk : recordedIdKeys) {
                BigInteger mapped = ids.get(parseId(rk));
                String ok = mapped == null ? null : ObjectIds.toText(mapped.longValue());
                if (ok != null && unmatched.remove(ok)) {
                    compare(recorded.get(rk), ours.get(ok), path + "." + rk);
                } else {
                    pending.add(rk);
                }
            }
            for (int k = 0; k < pending.size(); k++) {
                String rk = pending.get(k);
                String ok = unmatched.get(k);
                ids.put(parseId(rk), parseId(ok));
                compare(recorded.get(rk), ours.get(ok), path + "." + rk);
            }
        }

        private static String category(JsonNode n) {
            JsonNodeType t = n.getNodeType();
            if (t == JsonNodeType.NUMBER) {
                return n.isIntegralNumber() ? "integer" : "number";
            }
            return t.name();
        }

        private static boolean isIdText(String s) {
            return s.length() == 17 && (s.charAt(0) == 'o' || s.charAt(0) == 's') && s.substring(1).chars().allMatch(c -> Character.digit(c, 16) >= 0);
        }

        private static BigInteger parseId(String text) {
            return new BigInteger(text.substring(1), 16);
        }

        private void learn(JsonNode recorded, JsonNode ours) {
            if (recorded.isIntegralNumber() && ours.isIntegralNumber()) {
                BigInteger rv = recorded.bigIntegerValue();
                if (rv.bitLength() > 40) {
                    ids.putIfAbsent(rv, ours.bigIntegerValue());
                }
            } else if (recorded.isTextual() && ours.isTextual() && isIdText(recorded.asText()) && isIdText(ours.asText())) {
                ids.putIfAbsent(parseId(recorded.asText()), parseId(ours.asText()));
            }
        }

        private JsonNode translate(JsonNode node) {
            if (node.isObject()) {
                ObjectNode out = Json.object();
                node.properties().forEach(e -> out.set(e.getKey(), translate(e.getValue())));
                return out;
            }
            if (node.isArray()) {
                ArrayNode out = Json.NODES.arrayNode();
                node.forEach(e -> out.add(translate(e)));
                return out;
            }
            if (node.isIntegralNumber()) {
                BigInteger mapped = ids.get(node.bigIntegerValue());
                return mapped == null ? node : Json.NODES.numberNode(mapped);
            }
            if (node.isTextual() && isIdText(node.asText())) {
                BigInteger mapped = ids.get(parseId(node.asText()));
                return mapped == null ? node : TextNode.valueOf(node.asText().charAt(0) + String.format("%016x", mapped));
            }
            return node;
        }
    }

    /** Decompresses a flushed (possibly unterminated) zstd frame, as vineyard sends them. */
    static byte[] unzstd(byte[] frame) {
        try (var ctx = new com.github.luben.zstd.ZstdDecompressCtx()) {
            java.nio.ByteBuffer src = java.nio.ByteBuffer.allocateDirect(frame.length).put(frame).flip();
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            java.nio.ByteBuffer out = java.nio.ByteBuffer.allocateDirect(1 << 16);
            do {
                out.clear();
                ctx.decompressDirectByteBufferStream(out, src);
                out.flip();
                byte[] part = new byte[out.remaining()];
                out.get(part);
                all.writeBytes(part);
            } while (src.hasRemaining() || out.limit() == out.capacity());
            return all.toByteArray();
        }
    }

    /** A reply, its fd count and the request it answers (null where the replay did not send one). */
    record Reply(JsonNode body, int fds, JsonNode request) {
        Reply answering(JsonNode sent) {
            return new Reply(body, fds, sent);
        }
    }

    static final class Peer {
        final FrameSocket socket;
        final boolean tcp;
        final Deque<Reply> pending = new ArrayDeque<>();
        int fdsFromLastReply;
        boolean rawPending;
        BigInteger lastCreatedRemote;
        final Deque<BigInteger> remoteBlobs = new ArrayDeque<>();

        Peer(FrameSocket socket, boolean tcp) {
            this.socket = socket;
            this.tcp = tcp;
        }

        void close() {
            if (socket != null) {
                socket.close();
            }
        }
    }
}
