package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests the recorded transcripts do not exercise: RPC bulk transfers raw and compressed, batch creates, waits. */
class ProtocolCoverageTest {
    private DaemonProcess daemon;

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=512Mi");
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    private static ObjectNode msg(String type) {
        ObjectNode m = Json.object();
        m.put("type", type);
        return m;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        // make it compressible in parts, as real data often is
        for (int i = 0; i < n / 2; i++) {
            b[i] = (byte) (i / 1024);
        }
        return b;
    }

    /** Sends {@code data} as vineyard's client does with compression: flushed zstd chunks, each framed. */
    private static void sendCompressed(IpcConnection c, byte[] data) {
        try (ZstdCompressCtx ctx = new ZstdCompressCtx()) {
            ByteBuffer src = ByteBuffer.allocateDirect(data.length).put(data).flip();
            ByteBuffer out = ByteBuffer.allocateDirect(1 << 20);
            boolean flushed;
            do {
                flushed = ctx.compressDirectByteBufferStream(out, src, EndDirective.FLUSH);
                out.flip();
                byte[] chunk = new byte[out.remaining()];
                out.get(chunk);
                out.clear();
                if (chunk.length > 0) {
                    c.socket().writeFrame(chunk);
                }
            } while (!flushed || src.hasRemaining());
        }
    }

    private static byte[] receiveCompressed(IpcConnection c, int size) {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        try (var ctx = new com.github.luben.zstd.ZstdDecompressCtx()) {
            ByteBuffer out = ByteBuffer.allocateDirect(1 << 20);
            while (all.size() < size) {
                byte[] chunk = c.socket().readFrame();
                ByteBuffer src = ByteBuffer.allocateDirect(chunk.length).put(chunk).flip();
                boolean full;
                do {
                    out.clear();
                    ctx.decompressDirectByteBufferStream(out, src);
                    out.flip();
                    byte[] part = new byte[out.remaining()];
                    out.get(part);
                    all.writeBytes(part);
                    full = out.limit() == out.capacity();
                } while (src.hasRemaining() || full);
            }
        }
        return all.toByteArray();
    }

    @Test
    void remoteBuffersRoundTripRawAndCompressed() throws Exception {
        try (IpcConnection rpc = IpcConnection.connectTcp("127.0.0.1", daemon.rpcPort(), 30_000);
             IpcConnection ipc = daemon.connect()) {
            for (boolean compress : new boolean[] {false, true}) {
                byte[] a = random(3 << 20, 1);
                byte[] b = random(5000, 2);
                ObjectNode create = msg("create_remote_buffers_request");
                create.put("num", 3);
                create.putArray("sizes").add(a.length).add(0).add(b.length);
                create.put("compress", compress);
                ObjectNode ack = rpc.request(create);
                assertEquals("create_buffers_reply", ack.get("type").asText());
                assertEquals(0, ack.get("fds").size(), "no fds over TCP");
                for (byte[] data : new byte[][] {a, b}) {
                    if (compress) {
                        sendCompressed(rpc, data);
                    } else {
                        rpc.socket().writeRaw(data);
                    }
                }
                JsonNode done = Json.parse(rpc.socket().readFrame()); // the final reply, once the bytes are in
                assertEquals("create_buffers_reply", done.get("type").asText());
                assertEquals(ack.get("ids"), done.get("ids"));

                // the bytes arrived in the blobs: read them over IPC, zero-copy
                JsonNode ids = ack.get("ids");
                ObjectNode get = msg("get_buffers_request");
                get.putArray("ids").add(ids.get(0)).add(ids.get(2));
                JsonNode payloads = ipc.request(get).get("payloads");
                assertArrayEquals(a, ipc.blobSegment(payloads.get(0)).toArray(ValueLayout.JAVA_BYTE));
                assertArrayEquals(b, ipc.blobSegment(payloads.get(1)).toArray(ValueLayout.JAVA_BYTE));

                // and back over TCP
                ObjectNode fetch = msg("get_remote_buffers_request");
                fetch.putArray("ids").add(ids.get(0)).add(ids.get(1)).add(ids.get(2));
                fetch.put("compress", compress);
                JsonNode reply = rpc.request(fetch);
                assertEquals(3, reply.get("num").asInt());
                assertEquals(compress, reply.get("compress").asBoolean());
                for (byte[] data : new byte[][] {a, b}) {
                    byte[] back;
                    if (compress) {
                        back = receiveCompressed(rpc, data.length);
                    } else {
                        MemorySegment seg = Arena.ofAuto().allocate(data.length);
                        rpc.socket().readSegment(seg);
                        back = seg.toArray(ValueLayout.JAVA_BYTE);
                    }
                    assertArrayEquals(data, back, "compress=" + compress);
                }
            }
            assertEquals(1, daemon.status().get("rpc_connections").asInt());
        }
    }

    @Test
    void createBuffersIsAllOrNothingAndPassesTheFdOnce() {
        try (IpcConnection c = daemon.connect()) {
            ObjectNode create = msg("create_buffers_request");
            create.put("num", 3);
            create.putArray("sizes").add(100).add(0).add(4096);
            ObjectNode reply = c.request(create);
            assertEquals(3, reply.get("num").asInt());
            assertEquals(3, reply.get("payloads").size());
            assertEquals(1, reply.get("fds").size());
            assertEquals(reply.get("payloads").get(0), reply.get("0"), "the legacy list too");
            assertEquals(ObjectIds.EMPTY_BLOB_ID, Json.readU64(reply.get("ids").get(1), "id"));
            assertTrue(c.request(create).get("fds").isEmpty(), "the store fd goes once per connection");

            long before = daemon.memoryUsage();
            ObjectNode tooMuch = msg("create_buffers_request");
            tooMuch.put("num", 2);
            tooMuch.putArray("sizes").add(100 << 20).add(1L << 40);
            assertEquals(41, c.requestRaw(tooMuch).get("code").asInt());
            assertEquals(before, daemon.memoryUsage(), "the first allocation was undone");
        }
    }

    @Test
    void getDataWaitParksAndIsDroppedWithItsConnection() throws Exception {
        try (IpcConnection waiter = daemon.connect(); IpcConnection maker = daemon.connect()) {
            // an id that does not exist (made, then deleted): a wait on it parks
            ObjectNode create = msg("create_data_request");
            create.putObject("content").put("typename", "vineyard::Scalar<int>").put("value_", 1);
            JsonNode first = maker.request(create);
            long next = Json.readU64(first.get("id"), "id");
            ObjectNode del = msg("del_data_request");
            del.putArray("id").add(first.get("id"));
            maker.request(del);
            ObjectNode get = msg("get_data_request");
            get.putArray("id").add(Json.u64(next));
            get.put("wait", true);
            CompletableFuture<JsonNode> answer = CompletableFuture.supplyAsync(() -> waiter.request(get));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (daemon.status().get("deferred_requests").asInt() != 1 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertFalse(answer.isDone(), "a wait on a missing id parks");
            assertEquals(1, daemon.status().get("deferred_requests").asInt());
        }
        // closing the waiter's connection dropped the parked request
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (daemon.status().get("deferred_requests").asInt() != 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(0, daemon.status().get("deferred_requests").asInt());
    }

    @Test
    void getObjectByNameWaitsUntilItIsNamed() throws Exception {
        try (IpcConnection waiter = daemon.connect(); IpcConnection maker = daemon.connect()) {
            ObjectNode get = msg("get_object_request");
            get.put("name", "later");
            get.put("wait", true);
            CompletableFuture<JsonNode> answer = CompletableFuture.supplyAsync(() -> waiter.request(get));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (daemon.status().get("deferred_requests").asInt() != 1 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            ObjectNode put = msg("put_object_request");
            put.putObject("content").put("typename", "vineyard::Scalar<int>").put("value_", 5);
            put.put("name", "later");
            JsonNode made = maker.request(put);
            JsonNode got = answer.get(10, TimeUnit.SECONDS);
            assertEquals(made.get("id").asText(), got.get("id").asText());
            assertEquals(5, got.get("content").get("value_").asInt());
            assertTrue(got.get("payloads").isEmpty());
        }
    }

    @Test
    void listDataHonoursGlobRegexAndLimit() {
        try (IpcConnection c = daemon.connect()) {
            for (int i = 0; i < 7; i++) {
                ObjectNode create = msg("create_data_request");
                create.putObject("content").put("typename", i < 4 ? "vineyard::Scalar<int>" : "my::Thing").put("i", i);
                c.request(create);
            }
            ObjectNode list = msg("list_data_request");
            list.put("pattern", "vineyard::*");
            list.put("limit", 100);
            assertEquals(4, c.request(list).get("content").size());
            list.put("limit", 2);
            assertEquals(2, c.request(list).get("content").size());
            list.put("pattern", "my::.*");
            list.put("regex", true);
            list.put("limit", 100);
            assertEquals(3, c.request(list).get("content").size());
            list.put("pattern", "([unclosed");
            assertTrue(c.request(list).get("content").isNull(), "an invalid regex lists nothing, as vineyard");
        }
    }

    @Test
    void diskBuffersNeverTruncateAnExistingFile() throws Exception {
        java.nio.file.Path file = daemon.dir().resolve("precious.txt");
        byte[] content = "precious content that a client request must not destroy".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.file.Files.write(file, content);
        try (IpcConnection c = daemon.connect()) {
            ObjectNode create = msg("create_disk_buffer_request");
            create.put("size", 8);
            create.put("path", file.toString());
            ObjectNode reply = c.request(create);
            assertEquals(8, reply.get("created").get("data_size").asInt());
            assertArrayEquals(content, java.nio.file.Files.readAllBytes(file), "the file is intact");
            MemorySegment view = c.blobSegment(reply.get("created"));
            assertEquals('p', (char) view.get(ValueLayout.JAVA_BYTE, 0), "the blob maps the file");

            java.nio.file.Path link = daemon.dir().resolve("link");
            java.nio.file.Files.createSymbolicLink(link, file);
            create.put("path", link.toString());
            assertEquals(1, c.requestRaw(create).get("code").asInt(), "symlinks are refused");
            create.put("path", daemon.dir().toString());
            assertEquals(1, c.requestRaw(create).get("code").asInt(), "directories are refused");
        }
    }

    @Test
    void oneWayReleaseIsNeverAnswered() {
        try (IpcConnection owner = daemon.connect(); IpcConnection reader = daemon.connect()) {
            ObjectNode create = msg("create_buffer_request");
            create.put("size", 4096);
            JsonNode id = owner.request(create).get("id");
            ObjectNode seal = msg("seal_request");
            seal.set("object_id", id);
            owner.request(seal);
            ObjectNode get = msg("get_buffers_request");
            get.putArray("ids").add(id);
            reader.request(get);
            ObjectNode del = msg("del_data_request");
            del.putArray("id").add(id);
            owner.request(del);
            assertEquals(0, daemon.memoryUsage(), "deleted: no longer in memory_usage");
            assertEquals(4096, reader.request(msg("server_stats_request")).get("deferred_free_bytes").asLong(), "the reader's hold keeps the memory");

            ObjectNode bad = msg("release_buffers_request");
            bad.put("ids", "not ids");
            bad.put("reply", false);
            reader.socket().writeFrame(Json.write(bad));
            ObjectNode release = msg("release_buffers_request");
            release.putArray("ids").add(id);
            release.put("reply", false);
            reader.socket().writeFrame(Json.write(release));
            // the next reply on this connection is the status's: neither one-way request was answered
            assertEquals("instance_status_reply", reader.requestRaw(msg("instance_status_request")).get("type").asText());
            assertEquals(0, reader.request(msg("server_stats_request")).get("deferred_free_bytes").asLong(), "the one-way release let the memory go");
        }
    }
}
