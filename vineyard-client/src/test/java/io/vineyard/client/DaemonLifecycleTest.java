package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launcher's contract and the lifecycle scenarios that cross connections. */
class DaemonLifecycleTest {
    private static ObjectNode msg(String type) {
        ObjectNode m = Json.object();
        m.put("type", type);
        return m;
    }

    @Test
    void sigtermStopsCleanlyAndRemovesTheSocket() throws Exception {
        DaemonProcess d = DaemonProcess.start("--size=64Mi");
        Path socket = Path.of(d.socket());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        IpcConnection client = d.connect(); // a connected client does not keep the daemon alive
        d.close(); // SIGTERM by PID
        assertEquals(0, d.exitValue());
        assertFalse(Files.exists(socket), "the socket file is removed on SIGTERM");
        client.close();
    }

    @Test
    void connectionsBeyondThePlatformLaneAreServedAndIdleLaneConnectionsDoNotHoldUpShutdown() throws Exception {
        // a lane of 2: the first connections wait in poll(2) on platform threads, the others on virtual
        // threads; every one of them is served, round after round, in any order
        DaemonProcess d = DaemonProcess.start("--size=64Mi", "--platform_connections=2");
        List<IpcConnection> clients = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            clients.add(d.connect());
        }
        for (int round = 0; round < 3; round++) {
            for (int i = clients.size() - 1; i >= 0; i--) {
                assertEquals("instance_status_reply", clients.get(i).request(msg("instance_status_request")).get("type").asText());
            }
        }
        // a connection that ends gives its lane thread back: later connections are served as well
        clients.removeFirst().close();
        clients.removeFirst().close();
        for (int i = 0; i < 3; i++) {
            IpcConnection c = d.connect();
            assertEquals("instance_status_reply", c.request(msg("instance_status_request")).get("type").asText());
            clients.add(c);
        }
        // connected clients idle in poll(2) or parked in the poller: SIGTERM still stops the daemon cleanly
        d.close();
        assertEquals(0, d.exitValue());
        for (IpcConnection c : clients) {
            c.close();
        }
    }

    @Test
    void theStartupWarmupRunsInTheBackgroundAndLeavesNothingClientsCanSee() throws Exception {
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi")) { // the suite's daemons log at debug
            assertTrue(DaemonProcess.eventually(Duration.ofSeconds(30), () -> d.log().contains("warm-up: 3 fds passed")), d.log());
            assertTrue(d.log().contains("warm-up on"), d.log());
            ObjectNode status = d.status();
            assertEquals(0, status.get("memory_usage").asLong());
            assertEquals(1, status.get("ipc_connections").asInt(), "the status connection alone: " + status);
            // a client's first fd arrives intact after the warm-up's fds
            try (IpcConnection c = d.connect()) {
                ObjectNode create = msg("create_buffer_request");
                create.put("size", 4096);
                JsonNode reply = c.request(create); // receives the pool's fd and maps it
                assertTrue(reply.get("fd").asInt() >= 0, reply.toString());
                MemorySegment pool = c.storeMapping(reply.get("fd").asInt());
                assertTrue(pool != null && pool.byteSize() >= 64L << 20, "the pool is mapped through the passed fd: " + pool);
            }
            if (DaemonProcess.suiteHasExtensions()) {
                java.util.Map<String, Long> counts = d.requestCounts();
                assertEquals(1L, counts.getOrDefault("create_buffer_request", 0L), "only this test's requests count: " + counts);
            }
        }
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi", "--nowarmup")) {
            // the settings line follows the ready line
            assertTrue(DaemonProcess.eventually(Duration.ofSeconds(30), () -> d.log().contains("warm-up off")), d.log());
            assertEquals(0, d.status().get("memory_usage").asLong(), "the daemon serves requests");
            assertFalse(d.log().contains("warm-up:"), d.log());
        }
    }

    @Test
    void aPoolLargerThanDevShmIsRefusedAtStart() throws Exception {
        Path dir = Files.createTempDirectory("vineyard-size-");
        Process p = new ProcessBuilder(List.of(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "io.vineyard.server.Vineyardd",
                "--socket=" + dir.resolve("s.sock"), "--size=1000Gi")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertTrue(p.exitValue() != 0, "non-zero exit");
        assertTrue(out.contains("/dev/shm"), "the message says why: " + out);
        assertFalse(Files.exists(dir.resolve("s.sock")));
        Files.delete(dir);
    }

    @Test
    void deletedBlobStaysIntactForItsReaderUntilReleased() throws IOException {
        // vineyard's #1916: B gets 200 int32s, A deletes them and puts new data of the same size
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi");
             IpcConnection a = d.connect(); IpcConnection b = d.connect()) {
            ObjectNode create = msg("create_buffer_request");
            create.put("size", 800);
            ObjectNode created = a.request(create);
            MemorySegment written = a.blobSegment(created.get("created"));
            for (int i = 0; i < 200; i++) {
                written.setAtIndex(ValueLayout.JAVA_INT, i, i * 3);
            }
            ObjectNode seal = msg("seal_request");
            seal.set("object_id", created.get("id"));
            a.request(seal);
            ObjectNode get = msg("get_buffers_request");
            get.putArray("ids").add(created.get("id"));
            MemorySegment view = b.blobSegment(b.request(get).get("payloads").get(0));

            ObjectNode del = msg("del_data_with_feedbacks_request");
            del.putArray("id").add(created.get("id"));
            assertEquals(1, a.request(del).get("deleted_bids").size());
            ObjectNode exists = msg("exists_request");
            exists.set("id", created.get("id"));
            assertFalse(a.request(exists).get("exists").asBoolean(), "gone from view at once");
            for (int k = 0; k < 20; k++) { // new data of the same size must not land in B's blob
                ObjectNode again = a.request(create);
                a.blobSegment(again.get("created")).fill((byte) 0x7F);
            }
            for (int i = 0; i < 200; i++) {
                assertEquals(i * 3, view.getAtIndex(ValueLayout.JAVA_INT, i), "B's view is intact at " + i);
            }
            assertEquals(800 * 20, d.memoryUsage(), "memory_usage counts visible blobs, as vineyard's");
            assertEquals(800 * 21, d.heldBytes(), "the deleted blob's memory is kept while B holds it");
            ObjectNode release = msg("release_request");
            release.set("object_id", created.get("id"));
            b.request(release);
            assertEquals(800 * 20, d.heldBytes(), "freed once B released it");
        }
    }

    @Test
    void aWaitingRequestOfADeadConnectionIsDropped() throws Exception {
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi")) {
            RawClient waiter = RawClient.registered(d.socket());
            ObjectNode wait = msg("get_name_request");
            wait.put("name", "never");
            wait.put("wait", true);
            waiter.socket.writeFrame(Json.write(wait));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (d.status().get("deferred_requests").asInt() != 1 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(1, d.status().get("deferred_requests").asInt());
            waiter.close();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (d.status().get("deferred_requests").asInt() != 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(0, d.status().get("deferred_requests").asInt(), "the dead waiter is gone");
        }
    }

    @Test
    void namesAndPersistFollowVineyardsRules() throws IOException {
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi"); IpcConnection c = d.connect()) {
            ObjectNode create = msg("create_data_request");
            create.putObject("content").put("typename", "vineyard::Scalar<int>").put("value_", 7);
            JsonNode id = c.request(create).get("id");
            ObjectNode put = msg("put_name_request");
            put.set("object_id", id);
            put.put("name", "seven");
            assertThrows(VineyardException.Invalid.class, () -> c.request(put), "transient objects cannot be named");
            ObjectNode persist = msg("persist_request");
            persist.set("id", id);
            c.request(persist);
            c.request(put);
            ObjectNode get = msg("get_name_request");
            get.put("name", "seven");
            assertEquals(id.asText(), c.request(get).get("object_id").asText());
            ObjectNode list = msg("list_name_request");
            list.put("pattern", "sev*");
            assertEquals(1, c.request(list).get("size").asInt());
            ObjectNode del = msg("del_data_request");
            del.putArray("id").add(id);
            c.request(del);
            assertThrows(VineyardException.ObjectNotExists.class, () -> c.request(get),
                    "a deleted object's name is dropped with it");
        }
    }
}
