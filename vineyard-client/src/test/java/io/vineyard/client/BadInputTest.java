package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.posix.Posix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kind of bad input of the daemon issue, item 6: each gets vineyard's status code and a message
 * that names the problem (or, for framing errors, a closed connection), the daemon stays up, and a
 * bystander client's blob and connection are untouched.
 */
class BadInputTest {
    private DaemonProcess daemon;
    private IpcConnection bystander;
    private MemorySegment bystanderBlob;
    private JsonNode bystanderId;

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=64Mi");
        bystander = daemon.connect();
        ObjectNode create = Json.object();
        create.put("type", "create_buffer_request");
        create.put("size", 4096);
        ObjectNode reply = bystander.request(create);
        bystanderId = reply.get("id");
        bystanderBlob = bystander.blobSegment(reply.get("created"));
        bystanderBlob.fill((byte) 0x5A);
        ObjectNode seal = Json.object();
        seal.put("type", "seal_request");
        seal.set("object_id", bystanderId);
        bystander.request(seal);
    }

    @AfterEach
    void stop() {
        try {
            assertTrue(daemon.isAlive(), "the daemon died");
            // the bystander's connection still works and its blob is intact
            ObjectNode get = Json.object();
            get.put("type", "get_buffers_request");
            get.putArray("ids").add(bystanderId);
            JsonNode payload = bystander.request(get).get("payloads").get(0);
            MemorySegment again = bystander.blobSegment(payload);
            for (long i = 0; i < again.byteSize(); i++) {
                assertEquals((byte) 0x5A, again.get(ValueLayout.JAVA_BYTE, i));
            }
            assertEquals(4096, daemon.memoryUsage(), "usage is the bystander's blob only");
        } finally {
            bystander.close();
            daemon.close();
        }
    }

    private RawClient client() {
        return RawClient.registered(daemon.socket());
    }

    private static ObjectNode msg(String type) {
        ObjectNode m = Json.object();
        m.put("type", type);
        return m;
    }

    private static void assertError(JsonNode reply, int code, String... words) {
        assertTrue(reply != null, "expected an error reply, the connection was closed");
        assertEquals(code, reply.path("code").asInt(), "status code of " + reply);
        assertTrue(!reply.has("type"), "error replies carry no type: " + reply);
        String message = reply.path("message").asText();
        for (String w : words) {
            assertTrue(message.contains(w), "message '" + message + "' should mention '" + w + "'");
        }
    }

    private static void assertStillServes(RawClient c) {
        assertEquals("instance_status_reply", c.send(msg("instance_status_request")).path("type").asText());
    }

    @Test
    void malformedJson() {
        try (RawClient c = client()) {
            assertError(c.sendBody("{\"type\": \"instance_status_request\"".getBytes(StandardCharsets.UTF_8)), 1,
                    "Failed to parse the JSON message", "instance_status_request");
            assertError(c.sendBody(new byte[0]), 1, "Failed to parse");
            assertError(c.sendBody("[1,2,3]".getBytes(StandardCharsets.UTF_8)), 1, "no 'type' field");
            assertError(c.sendBody("{\"a\":1} trailing".getBytes(StandardCharsets.UTF_8)), 1, "Failed to parse");
            assertStillServes(c);
        }
    }

    @Test
    void invalidUtf8() {
        try (RawClient c = client()) {
            byte[] body = {(byte) 0xff, (byte) 0xfe, ' ', 'g', 'a', 'r', 'b', 'a', 'g', 'e'};
            assertError(c.sendBody(body), 1, "Failed to parse");
            byte[] inString = "{\"type\": \"get_name_request\", \"name\": \"xx\"}".getBytes(StandardCharsets.UTF_8);
            inString[38] = (byte) 0xC3; // a lone lead byte inside the string
            assertError(c.sendBody(inString), 1, "Failed to parse");
            assertStillServes(c);
        }
    }

    @Test
    void typeThatIsNotAString() {
        try (RawClient c = client()) {
            assertError(c.sendBody("{\"type\": 123}".getBytes(StandardCharsets.UTF_8)), 1, "'type' must be a string");
            assertError(c.sendBody("{\"type\": null}".getBytes(StandardCharsets.UTF_8)), 1, "'type' must be a string");
            assertError(c.sendBody("{\"type\": {\"x\": 1}}".getBytes(StandardCharsets.UTF_8)), 1, "'type' must be a string");
            assertStillServes(c);
        }
    }

    @Test
    void unknownTypesAndNotImplementedOnes() {
        try (RawClient c = client()) {
            assertError(c.send(msg("no_such_request")), 1, "Got unexpected command: no_such_request");
            // streams are served: a malformed stream request is Invalid, as any other
            assertError(c.send(msg("create_stream_request")), 1, "missing field 'object_id'");
            assertError(c.send(msg("migrate_object_request")), 1, "missing field 'object_id'");
            for (String t : new String[] {"make_arena_request", "acquire_lock_request", "create_gpu_buffer_request"}) {
                assertError(c.send(msg(t)), 6, t, "not implemented");
            }
            ObjectNode badKind = msg("new_session_request");
            badKind.put("bulk_store_type", 7);
            assertError(c.send(badKind), 1, "bulk_store_type must be 1");
            ObjectNode badSize = msg("new_session_request");
            badSize.put("size", "lots");
            assertError(c.send(badSize), 1, "new_session: size 'lots' is not a size");
            assertError(c.send(msg("delete_session_request")), 1, "root session");
            ObjectNode noSource = msg("move_buffers_ownership_request");
            noSource.put("session_id", 12345);
            assertError(c.send(noSource), 1, "does not exist");
            assertError(c.send(msg("plasma_seal_request")), 1, "needs a plasma session");
            assertStillServes(c);
        }
    }

    @Test
    void missingAndIllTypedFields() {
        try (RawClient c = client()) {
            assertError(c.send(msg("create_buffer_request")), 1, "missing field 'size'");
            ObjectNode badSize = msg("create_buffer_request");
            badSize.put("size", "large");
            assertError(c.send(badSize), 1, "size");
            ObjectNode badName = msg("get_name_request");
            badName.put("name", 42);
            assertError(c.send(badName), 1, "'name' must be a string");
            ObjectNode badBool = msg("get_buffers_request");
            badBool.putArray("ids");
            badBool.put("unsafe", "yes");
            assertError(c.send(badBool), 1, "'unsafe' must be a bool");
            ObjectNode badContent = msg("create_data_request");
            badContent.put("content", "not an object");
            assertError(c.send(badContent), 1, "content");
            ObjectNode noTypename = msg("create_data_request");
            noTypename.putObject("content").put("nbytes", 0);
            assertError(c.send(noTypename), 1, "typename");
            ObjectNode badLabels = msg("label_request");
            badLabels.put("id", 1);
            badLabels.putArray("keys").add("a");
            badLabels.putArray("values");
            assertError(c.send(badLabels), 1, "1 keys but 0 values");
            ObjectNode hugeNum = msg("get_buffers_request");
            hugeNum.put("num", 1L << 40);
            assertError(c.send(hugeNum), 1, "num");
            assertStillServes(c);
        }
    }

    @Test
    void requestsBeforeRegister() {
        try (RawClient c = new RawClient(daemon.socket(), 10_000)) {
            assertError(c.send(msg("instance_status_request")), 1, "not registered yet", "instance_status_request");
            assertError(c.send(msg("create_buffer_request")), 1, "not registered yet");
            ObjectNode reg = msg("register_request");
            reg.put("store_type", 1);
            assertEquals("register_reply", c.send(reg).path("type").asText());
            assertStillServes(c);
        }
    }

    private static byte[] header(long length) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array();
    }

    @Test
    void oversizedFrameClosesTheConnection() {
        try (RawClient c = client()) {
            c.socket.writeRaw(header((256L << 20) + 1));
            assertNull(c.read(), "a frame over 256 MiB closes the connection");
        }
        try (RawClient c = client()) {
            c.socket.writeRaw(header(-1L));
            assertNull(c.read(), "a frame of 2^64-1 bytes closes the connection");
        }
        try (RawClient c = client()) {
            // exactly 256 MiB is a legal header: the daemon waits for the body, nothing comes back
            c.socket.writeRaw(header(256L << 20));
            c.socket.writeRaw("{\"type\":".getBytes(StandardCharsets.UTF_8));
            assertEquals(0, Posix.poll(c.socket.fd(), Posix.POLLIN, 300) & Posix.POLLIN);
        }
        try (RawClient c = client()) {
            assertStillServes(c);
        }
    }

    @Test
    void truncatedFramesThenClose() {
        try (RawClient c = client()) {
            c.socket.writeRaw(new byte[] {0x10, 0, 0});
        }
        try (RawClient c = client()) {
            byte[] h = header(100);
            c.socket.writeRaw(h);
            c.socket.writeRaw("{\"type\"".getBytes(StandardCharsets.UTF_8));
        }
        try (RawClient c = client()) {
            assertStillServes(c);
            // the two half-sent connections are gone from the daemon's books
            long deadline = System.nanoTime() + 5_000_000_000L;
            int connections;
            while ((connections = c.send(msg("instance_status_request")).path("meta").path("ipc_connections").asInt()) != 2
                    && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(2, connections, "this client and the bystander");
        }
    }

    @Test
    void idsThatDoNotExist() {
        try (RawClient c = client()) {
            long missingObject = 0x0123456789abcdefL;
            long missingBlob = 0x8123456789abcdefL;
            ObjectNode seal = msg("seal_request");
            seal.set("object_id", Json.u64(missingBlob));
            assertError(c.send(seal), 12, "o8123456789abcdef");
            ObjectNode persist = msg("persist_request");
            persist.put("id", missingObject);
            assertError(c.send(persist), 27, "o0123456789abcdef");
            ObjectNode release = msg("release_request");
            release.set("object_id", Json.u64(missingBlob));
            assertError(c.send(release), 2, "connection not exist");
            ObjectNode putName = msg("put_name_request");
            putName.put("object_id", missingObject);
            putName.put("name", "n");
            assertError(c.send(putName), 12, "o0123456789abcdef");
            ObjectNode getName = msg("get_name_request");
            getName.put("name", "never-named");
            assertError(c.send(getName), 12, "never-named");
            ObjectNode member = msg("create_data_request");
            ObjectNode content = member.putObject("content");
            content.put("typename", "vineyard::Wrapper");
            content.putObject("inner").put("id", "o0123456789abcdef");
            assertError(c.send(member), 12, "o0123456789abcdef");
            ObjectNode getData = msg("get_data_request");
            getData.putArray("id").add(missingObject);
            assertTrue(c.send(getData).get("content").isNull(), "unknown ids are omitted, as vineyard does");
            ObjectNode getBuffers = msg("get_buffers_request");
            getBuffers.putArray("ids").add(Json.u64(missingBlob));
            assertEquals(0, c.send(getBuffers).get("num").asInt());
            assertStillServes(c);
        }
    }

    @Test
    void fullPoolIsATypedErrorThatChangesNothing() {
        try (RawClient c = client()) {
            ObjectNode tooBig = msg("create_buffer_request");
            tooBig.put("size", 65L << 20);
            assertError(c.send(tooBig), 41, "Failed to allocate memory of size " + (65L << 20));
            ObjectNode negative = msg("create_buffer_request");
            negative.put("size", -1);
            assertError(c.send(negative), 41, "18446744073709551615");
            ObjectNode some = msg("create_buffers_request");
            some.putArray("sizes").add(1 << 20).add(1L << 40);
            assertError(c.send(some), 41);
            assertEquals(4096, c.send(msg("instance_status_request")).path("meta").path("memory_usage").asLong(),
                    "failed allocations leave usage unchanged (#862)");
        }
    }
}
