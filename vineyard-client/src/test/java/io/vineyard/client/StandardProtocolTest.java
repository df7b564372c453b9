package io.vineyard.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Sequence;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The SDK against a daemon without our extensions takes vineyard's standard requests (as against
 * vineyard's own vineyardd 0.24), with the same API, types and all-or-nothing puts; and it uses the
 * extensions exactly when the daemon advertises them. The daemon's request statistics show which
 * requests each path sent.
 */
@Tag("both-protocols")   // also run against daemons without extensions (pom: standard-protocol)
class StandardProtocolTest {
    private static final List<String> EXTENSION_TYPES =
            List.of("put_object_request", "get_object_request", "release_buffers_request");
    private final List<DaemonProcess> daemons = new ArrayList<>();

    private DaemonProcess start(String... args) throws Exception {
        DaemonProcess d = DaemonProcess.start(args);
        daemons.add(d);
        return d;
    }

    @AfterEach
    void stop() {
        daemons.forEach(DaemonProcess::close);
    }

    private static DataFrame frame() {
        return new DataFrame(List.of("a", "b"),
                List.of(Tensor.of(new long[] {1, 2, 3}), Tensor.of(new double[] {0.5, 1.5, 2.5})), null);
    }

    @Test
    void aDaemonWithoutExtensionsAdvertisesNoneAndRefusesThemAsVineyarddDoes() throws Exception {
        DaemonProcess d = start("--size=64Mi", "--noextensions");
        try (IpcConnection c = d.connect()) {
            assertNull(c.registerReply().get("extensions"), "no extensions field: " + c.registerReply());
            assertTrue(c.extensions().isEmpty());
            ObjectNode put = Json.object().put("type", "put_object_request");
            VineyardException e = assertThrows(VineyardException.class, () -> c.request(put));
            assertEquals("Got unexpected command: put_object_request", e.getMessage(),
                    "so a put that works here cannot have used put_object");
        }
    }

    @Test
    void putsAndGetsWorkAgainstADaemonWithoutExtensions() throws Exception {
        DaemonProcess d = start("--size=64Mi", "--noextensions");
        try (IpcClient client = IpcClient.connect(d.socket())) {
            assertFalse(client.usesExtensions());
            long baseline = client.status().memoryUsage();
            ObjectId id = client.putNamed(frame(), "frame");
            ObjectMeta meta = client.getMeta(id);
            assertFalse(meta.isTransient(), "persisted with persist_request");
            assertEquals(id, client.getName("frame"));
            try (DataFrame got = client.get("frame", DataFrame.class)) {
                assertEquals(3L, got.column("a").getLong(2));
                assertEquals(2.5, got.column("b").getDouble(2));
            }
            try (VineyardObject o = client.getObject(id)) {
                ObjectMeta column = o.meta().member("__values_-value-0").member("buffer_");
                assertEquals(24, column.getLong("length"), "blob sizes filled in from get_buffers");
            }
            BlobWriter w = client.createBlob(16);
            w.segment().fill((byte) 3);
            ObjectId blobId = client.put(w);
            try (Blob b = client.get(blobId, Blob.class)) {
                assertArrayEquals(new byte[] {3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, b.toByteArray());
            }
            VineyardException missing = assertThrows(VineyardException.ObjectNotExists.class,
                    () -> client.get("no-such-name", Tensor.class));
            assertTrue(missing.getMessage().contains("no-such-name"), missing.getMessage());
            client.dropName("frame");
            client.delete(id, blobId);
            client.flushReleases();
            assertEquals(baseline, client.status().memoryUsage(), "deleting frees at once: the put released its blobs");
        }
    }

    @Test
    void rpcPutsAndGetsWorkAgainstADaemonWithoutExtensions() throws Exception {
        DaemonProcess d = start("--size=64Mi", "--noextensions");
        try (RpcClient client = RpcClient.connect("127.0.0.1", d.rpcPort())) {
            assertFalse(client.usesExtensions());
            long baseline = client.status().memoryUsage();
            ObjectId id = client.putNamed(frame(), "rpc-frame");
            try (DataFrame got = client.get("rpc-frame", DataFrame.class)) {
                assertEquals(2L, got.column("a").getLong(1));
                assertEquals(1.5, got.column("b").getDouble(1));
            }
            try (IpcClient ipc = IpcClient.connect(d.socket()); Tensor t = ipc.get(
                    ipc.getMeta(id).member("__values_-value-1").id(), Tensor.class)) {
                assertEquals(0.5, t.getDouble(0), "the RPC upload is readable over IPC");
            }
            client.dropName("rpc-frame");
            client.delete(id);
            client.flushReleases();
            assertEquals(baseline, client.status().memoryUsage());
        }
    }

    /**
     * A put whose last create_data is refused (a member that does not exist) after its columns were
     * created: the standard path deletes the members it created and drops the blobs it sealed.
     */
    @Test
    void aRefusedStandardPutLeavesNothingBehind() throws Exception {
        DaemonProcess d = start("--size=64Mi", "--noextensions");
        try (IpcClient client = IpcClient.connect(d.socket())) {
            long baseline = client.status().memoryUsage();
            ObjectMeta df = new ObjectMeta("vineyard::DataFrame");
            df.putJson("columns_", List.of("a", "b"));
            df.put("__values_-size", 2L);
            ObjectMeta a = new ObjectMeta("vineyard::Tensor<int64>");   // created first, as a member
            a.putJson("shape_", List.of(2)).put("value_type_", "int64").putJson("partition_index_", List.of());
            BlobWriter w = client.createBlob(16);
            a.addMember("buffer_", w.asMember());
            df.putJson("__values_-key-0", "a").addMember("__values_-value-0", a);
            df.putJson("__values_-key-1", "b").addMember("__values_-value-1", new ObjectId(0x0123456789abcdefL));
            VineyardException e = assertThrows(VineyardException.class, () -> client.putMeta(df, true, "refused"));
            assertTrue(e.getMessage().startsWith("put vineyard::DataFrame as 'refused'"), e.getMessage());
            assertTrue(client.list("*", 100).isEmpty(), "the member created before the refusal is deleted");
            assertNull(a.id(), "the member's id is forgotten");
            assertThrows(IllegalStateException.class, w::segment, "the writer's blob was dropped");
            assertEquals(baseline, client.status().memoryUsage(), "its blob was dropped");
            assertThrows(VineyardException.ObjectNotExists.class, () -> client.getName("refused"));
        }
    }

    /**
     * Thousands of standard releases in a row (a put's and a get's, one {@code release_request} each,
     * every one answered): the client reads the replies it owes as it writes, so neither side blocks on
     * a full socket, and every blob is released.
     */
    @Test
    void thousandsOfStandardReleasesInARowDoNotBlockTheConnection() throws Exception {
        DaemonProcess d = start("--size=64Mi", "--noextensions");
        int n = 3000;
        try (IpcClient client = IpcClient.connect(d.socket())) {
            long baseline = client.status().memoryUsage();
            List<Object> tensors = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                tensors.add(Tensor.of(new long[] {i}));
            }
            ObjectId id = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> client.put(new Sequence(tensors)));
            long held = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> client.status().memoryUsage());
            assertEquals(baseline + 8L * n, held, "every tensor's blob is there, and the put's releases went through");
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                try (Sequence got = client.get(id, Sequence.class)) {
                    assertEquals((long) n - 1, ((Tensor) got.elements().get(n - 1)).getLong(0));
                }
                client.delete(true, id);
                client.flushReleases();
                assertEquals(baseline, client.status().memoryUsage(), "the get's releases went through too");
            });
        }
    }

    /** Requests sent back to back: every reply is read, the first error thrown, the connection stays in step. */
    @Test
    void requestsSentBackToBackStayInStepAfterAnError() throws Exception {
        DaemonProcess d = start("--size=64Mi", "--noextensions");
        try (IpcConnection c = d.connect()) {
            ObjectNode seal = Json.object().put("type", "seal_request");
            seal.set("object_id", Json.u64(0x8123456789abcdefL));
            ObjectNode status = Json.object().put("type", "instance_status_request");
            VineyardException e = assertThrows(VineyardException.ObjectNotExists.class,
                    () -> c.requestAll(List.of(status, seal, status)));
            assertTrue(e.getMessage().contains("o8123456789abcdef"), e.getMessage());
            List<ObjectNode> replies = c.requestAll(List.of(status, status));
            assertEquals(List.of("instance_status_reply", "instance_status_reply"),
                    replies.stream().map(r -> r.path("type").asText()).toList(), "the next replies are their own");
        }
    }

    /** Which path each client took, from the daemon's own request counts (server_stats, an extension). */
    @Test
    void theDaemonsRequestCountsShowWhichPathWasTaken() throws Exception {
        assumeTrue(DaemonProcess.suiteHasExtensions(), "server_stats is itself an extension: this suite's daemons have none");
        DaemonProcess d = start("--size=64Mi");
        try (IpcClient standard = IpcClient.builder().socket(d.socket()).extensions(false).connect()) {
            assertFalse(standard.usesExtensions());
            ObjectId id = standard.putNamed(frame(), "standard");
            try (DataFrame got = standard.get("standard", DataFrame.class)) {
                assertEquals(3, got.rowCount());
            }
            standard.flushReleases();
            standard.status();
            Map<String, Long> counts = d.requestCounts();
            for (String t : EXTENSION_TYPES) {
                assertNull(counts.get(t), t + " was not sent: " + counts);
            }
            assertEquals(2L, counts.get("seal_request"), counts.toString());
            assertEquals(3L, counts.get("create_data_request"), "two columns, then the frame: " + counts);
            assertEquals(1L, counts.get("persist_request"));
            assertEquals(1L, counts.get("put_name_request"));
            assertEquals(1L, counts.get("get_data_request"));
            assertEquals(1L, counts.get("get_buffers_request"));
            assertEquals(4L, counts.get("release_request"), "the put's 2 blobs, then the get's 2: " + counts);
            standard.delete(id);
        }
        try (IpcClient extended = IpcClient.connect(d.socket())) {
            assertTrue(extended.usesExtensions());
            ObjectId id = extended.putNamed(frame(), "extended");
            try (DataFrame got = extended.get("extended", DataFrame.class)) {
                assertEquals(3, got.rowCount());
            }
            extended.flushReleases();
            extended.status();
            Map<String, Long> counts = d.requestCounts();
            assertEquals(1L, counts.get("put_object_request"), counts.toString());
            assertEquals(1L, counts.get("get_object_request"), counts.toString());
            assertEquals(1L, counts.get("release_buffers_request"), counts.toString());
            assertEquals(3L, counts.get("create_data_request"), "none more than the standard client's: " + counts);
            extended.delete(id);
        }
    }

    /**
     * {@code IpcClient.connect()} with no socket and no {@code VINEYARD_IPC_SOCKET} finds a daemon on
     * its default socket, {@code $XDG_RUNTIME_DIR/vineyard/vineyard.sock}.
     */
    @Test
    void noArgumentConnectFindsTheDaemonsDefaultSocket() throws Exception {
        Path runtime = Files.createTempDirectory("vineyard-xdg-");
        try {
            Path socket = runtime.resolve("vineyard").resolve("vineyard.sock");
            DaemonProcess d = start("--size=64Mi", "--socket=" + socket);
            ProcessBuilder pb = new ProcessBuilder(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), DefaultSocketPeer.class.getName())
                    .redirectError(ProcessBuilder.Redirect.INHERIT);
            pb.environment().remove("VINEYARD_IPC_SOCKET");
            pb.environment().put("XDG_RUNTIME_DIR", runtime.toString());
            Process p = pb.start();
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), "the peer connected: " + line + "; daemon: " + d.log());
            try (IpcClient direct = IpcClient.connect(socket.toString())) {
                assertEquals("connected instance=" + direct.instanceId() + " socket=" + socket, line);
            }
        } finally {
            try (var files = Files.walk(runtime)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
