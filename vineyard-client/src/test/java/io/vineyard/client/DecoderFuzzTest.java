package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.posix.PosixException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the daemon's frame and message decoder over a real socket: 100,000+ inputs, random bytes and
 * mutations (byte-level and JSON-level) of every request recorded in the transcripts, with a fixed
 * seed so a failure replays. Every well-framed input must get a reply (an error reply is fine) or a
 * closed connection; at the end the daemon is alive, serves a new client, and its usage returns to 0
 * after a clear.
 */
@org.junit.jupiter.api.Tag("slow")
class DecoderFuzzTest {
    private static final int INPUTS = 100_000;

    @Test
    void daemonSurvivesFuzzedFrames() throws Exception {
        List<byte[]> seeds = seeds();
        assertFalse(seeds.isEmpty());
        SplittableRandom rnd = new SplittableRandom(0x5EED_2026L);
        int replies = 0;
        int closes = 0;
        try (DaemonProcess daemon = DaemonProcess.start("--size=256Mi", "--norpc")) {
            RawClient c = RawClient.registered(daemon.socket());
            byte[] previous = new byte[0];
            for (int i = 0; i < INPUTS; i++) {
                byte[] body = input(rnd, seeds);
                JsonNode reply;
                try {
                    reply = c.sendBody(body);
                } catch (PosixException e) {
                    throw new AssertionError("no reply within 10 s to input " + i + ": "
                            + new String(body, StandardCharsets.UTF_8) + " after " + new String(previous, StandardCharsets.UTF_8) + "; daemon log: " + daemon.log(), e);
                }
                previous = body;
                if (reply == null) {
                    closes++; // exit_request, or a framing error: reconnect and go on
                    c.close();
                    c = RawClient.registered(daemon.socket());
                } else {
                    assertTrue(reply.isObject(), "reply is an object: " + reply);
                    replies++;
                }
                if (i % 997 == 0) {
                    // occasionally a malformed frame header and a hang-up mid-frame
                    try (RawClient raw = new RawClient(daemon.socket(), 10_000)) {
                        byte[] junk = new byte[1 + rnd.nextInt(16)];
                        rnd.nextBytes(junk);
                        raw.socket.writeRaw(junk);
                    }
                }
            }
            c.close();
            assertTrue(daemon.isAlive(), "the daemon survived " + INPUTS + " inputs");
            try (RawClient after = RawClient.registered(daemon.socket())) {
                ObjectNode clear = Json.object();
                clear.put("type", "clear_request");
                assertEquals("clear_reply", after.send(clear).path("type").asText());
            }
            assertEquals(0, daemon.memoryUsage(), "usage after clear, with every fuzzing client gone");
        }
        assertEquals(INPUTS, replies + closes);
        assertTrue(replies > INPUTS / 2, "most inputs are answered, not dropped: " + replies);
    }

    /**
     * One input. Remote-buffer requests are left out: they switch the stream to raw blob bytes by
     * design, so the next fuzz frame would be read as blob data, not as a request.
     */
    private static byte[] input(SplittableRandom rnd, List<byte[]> seeds) {
        while (true) {
            byte[] b = anyInput(rnd, seeds);
            if (!new String(b, StandardCharsets.ISO_8859_1).contains("remote_buffer")) {
                return b;
            }
        }
    }

    private static byte[] anyInput(SplittableRandom rnd, List<byte[]> seeds) {
        int kind = rnd.nextInt(10);
        if (kind == 0) {
            byte[] b = new byte[rnd.nextInt(64)];
            rnd.nextBytes(b);
            return b;
        }
        byte[] seed = seeds.get(rnd.nextInt(seeds.size()));
        if (kind <= 4) {
            return calm(mutateBytes(rnd, seed));
        }
        try {
            JsonNode tree = Json.parse(seed);
            mutateJson(rnd, tree, 0);
            return Json.write(tree);
        } catch (IOException e) {
            return seed;
        }
    }

    /** Byte-level: flips, truncations, insertions, deletions. */
    private static byte[] mutateBytes(SplittableRandom rnd, byte[] seed) {
        byte[] b = seed.clone();
        int n = 1 + rnd.nextInt(4);
        for (int k = 0; k < n && b.length > 0; k++) {
            switch (rnd.nextInt(4)) {
                case 0 -> b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                case 1 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
                case 2 -> {
                    int at = rnd.nextInt(b.length);
                    byte[] out = new byte[b.length + 1];
                    System.arraycopy(b, 0, out, 0, at);
                    out[at] = (byte) rnd.nextInt(256);
                    System.arraycopy(b, at, out, at + 1, b.length - at);
                    b = out;
                }
                default -> b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            }
        }
        return b;
    }

    /** JSON-level: replace values with other types, drop keys, add junk keys. Never asks to wait. */
    private static void mutateJson(SplittableRandom rnd, JsonNode node, int depth) {
        if (!(node instanceof ObjectNode obj) || depth > 4) {
            return;
        }
        List<String> keys = new ArrayList<>();
        obj.fieldNames().forEachRemaining(keys::add);
        for (String k : keys) {
            if (k.equals("wait")) {
                continue;
            }
            switch (rnd.nextInt(8)) {
                case 0 -> obj.remove(k);
                case 1 -> obj.set(k, randomValue(rnd));
                case 2 -> obj.put(k, -rnd.nextLong(1, Long.MAX_VALUE));
                default -> mutateJson(rnd, obj.get(k), depth + 1);
            }
        }
        if (rnd.nextInt(4) == 0) {
            obj.set("junk" + rnd.nextInt(100), randomValue(rnd));
        }
        obj.remove("wait");
    }

    private static JsonNode randomValue(SplittableRandom rnd) {
        return switch (rnd.nextInt(7)) {
            case 0 -> Json.NODES.nullNode();
            case 1 -> Json.NODES.booleanNode(rnd.nextBoolean());
            case 2 -> Json.NODES.numberNode(rnd.nextLong());
            case 3 -> Json.NODES.numberNode(rnd.nextDouble());
            case 4 -> Json.NODES.textNode("o" + Long.toHexString(rnd.nextLong()));
            case 5 -> {
                ArrayNode a = Json.NODES.arrayNode();
                a.add(rnd.nextLong()).add("x");
                yield a;
            }
            default -> Json.object().put("typename", "vineyard::Fuzz").put("id", rnd.nextLong());
        };
    }

    /** Keeps a byte-mutated request from asking to wait forever (true is the only way to spell it). */
    private static byte[] calm(byte[] body) {
        String s = new String(body, StandardCharsets.ISO_8859_1);
        return s.contains("\"wait\"") ? s.replace("true", "fals").getBytes(StandardCharsets.ISO_8859_1) : body;
    }

    /** Every client->server JSON request of the transcripts, with waits turned off. */
    static List<byte[]> seeds() throws IOException {
        List<byte[]> out = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(TranscriptReplayTest.transcriptDir())) {
            files = s.filter(f -> f.toString().endsWith(".jsonl")).sorted().toList();
        }
        for (Path f : files) {
            for (String line : Files.readAllLines(f)) {
                JsonNode r = Json.MAPPER.readTree(line);
                JsonNode msg = r.get("msg");
                if ("client->server".equals(r.path("dir").asText()) && msg != null && msg.isObject()) {
                    ((ObjectNode) msg).remove("wait");
                    out.add(Json.write(msg));
                }
                if (r.has("raw_hex") && r.get("raw_hex").asText().length() > 16) {
                    byte[] raw = java.util.HexFormat.of().parseHex(r.get("raw_hex").asText());
                    long len = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong();
                    if (len == raw.length - 8) {
                        out.add(java.util.Arrays.copyOfRange(raw, 8, raw.length));
                    }
                }
            }
        }
        for (Iterator<byte[]> it = out.iterator(); it.hasNext(); ) {
            if (new String(it.next(), StandardCharsets.UTF_8).contains("exit_request")) {
                it.remove(); // exits are covered by the closes the fuzzing produces anyway
            }
        }
        return out;
    }
}
