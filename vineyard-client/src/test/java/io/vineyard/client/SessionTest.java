package io.vineyard.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sessions against a real daemon: each has its own socket and namespace, {@code ShallowCopy} moves an
 * object across, a session's memory limit holds whatever the others do, deleting a session frees its
 * memory and removes its socket, and a client killed with -9 does not end its session. The plasma
 * kind's requests are driven raw (the Java SDK has no plasma API).
 */
class SessionTest {
    private static final long MIB = 1L << 20;

    @RegisterExtension
    final TestDaemon vineyard = new TestDaemon("--size=64Mi");

    private static long[] values(Tensor t) {
        long[] out = new long[(int) t.elementCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.getLong(i);
        }
        return out;
    }

    @Test
    void aSessionHasItsOwnSocketObjectsAndNames() {
        IpcClient root = vineyard.client();
        ObjectId inRoot = root.putNamed(Tensor.of(new long[] {1, 2, 3}), "x");
        try (IpcClient a = root.newSession(); IpcClient b = root.newSession()) {
            assertNotEquals(0, a.sessionId());
            assertNotEquals(a.sessionId(), b.sessionId());
            assertEquals(vineyard.daemon().socket() + ".S" + String.format("%016x", a.sessionId()), a.sessionSocket());
            assertTrue(Files.exists(Path.of(a.sessionSocket())));
            // the root's object and name are not visible in a session
            assertFalse(a.exists(inRoot));
            assertThrows(VineyardException.ObjectNotExists.class, () -> a.getMeta(inRoot));
            assertThrows(VineyardException.class, () -> a.getName("x"));
            // the same name in two sessions names two objects
            ObjectId inA = a.putNamed(Tensor.of(new long[] {4, 5}), "x");
            assertEquals(inA, a.getName("x"));
            assertEquals(inRoot, root.getName("x"));
            assertFalse(b.exists(inA));
            assertFalse(root.exists(inA));
            assertEquals(0, b.list("*", 100).size(), "a new session lists nothing");
            assertArrayEquals(new long[] {4, 5}, values(a.get(inA, Tensor.class)));
        }
        root.delete(inRoot);
    }

    @Test
    void shallowCopyMovesAnObjectsBlobsIntoAnotherSession() {
        IpcClient root = vineyard.client();
        try (IpcClient a = root.newSession(); IpcClient b = root.newSession()) {
            long[] data = new long[100_000];
            for (int i = 0; i < data.length; i++) {
                data[i] = i * 3L;
            }
            ObjectId original = a.put(Tensor.of(data));
            long usedInA = a.status().memoryUsage();
            ObjectId copy = b.shallowCopyFrom(a, original);
            assertNotEquals(original, copy);
            assertEquals(a.getMeta(original).signature(), b.getMeta(copy).signature());
            assertArrayEquals(data, values(b.get(copy, Tensor.class)));
            // the bytes moved, they were not copied: the session's usage went with them
            assertEquals(usedInA, b.status().memoryUsage());
            assertEquals(0, a.status().memoryUsage());
            b.delete(copy);
            a.delete(original);
        }
    }

    @Test
    void aSessionsLimitHoldsWhateverTheOthersUse() {
        IpcClient root = vineyard.client();
        try (IpcClient small = root.newSession(4 * MIB); IpcClient other = root.newSession(8 * MIB)) {
            assertEquals(4 * MIB, small.status().memoryLimit());
            BlobWriter first = small.createBlob(3 * MIB);
            VineyardException.NotEnoughMemory e = assertThrows(VineyardException.NotEnoughMemory.class,
                    () -> small.createBlob(2 * MIB));
            assertTrue(e.getMessage().contains("session S" + String.format("%016x", small.sessionId()))
                    && e.getMessage().contains("memory limit of " + 4 * MIB), e.getMessage());
            // the refused allocation took nothing: the rest of the session's limit is still there
            BlobWriter rest = small.createBlob(MIB);
            // the other session and the root session still have their own room
            BlobWriter inOther = other.createBlob(7 * MIB);
            BlobWriter inRoot = root.createBlob(20 * MIB);
            assertEquals(7 * MIB, other.status().memoryUsage());
            // a delete gives the room back to the session
            ObjectId sealed = first.seal().id();
            small.delete(sealed);
            small.flushReleases();
            BlobWriter again = small.createBlob(3 * MIB);
            for (BlobWriter w : new BlobWriter[] {rest, inOther, inRoot, again}) {
                w.abort();
            }
        }
    }

    /** Root's view of the pool: a blob of {@code bytes} fits now (made and dropped at once). */
    private static boolean fits(IpcClient root, long bytes) {
        try {
            root.createBlob(bytes).abort();
            return true;
        } catch (VineyardException.NotEnoughMemory e) {
            return false;
        }
    }

    @Test
    void deletingASessionRemovesItsSocketAndFreesItsMemory() throws Exception {
        IpcClient root = vineyard.client();
        IpcClient s = root.newSession();
        Path socket = Path.of(s.sessionSocket());
        long[] big = new long[(int) (40 * MIB / 8)];
        s.putNamed(Tensor.of(big), "big");
        assertFalse(fits(root, 40 * MIB), "the session's 40 MiB are taken from the shared pool");
        try (IpcClient second = IpcClient.connect(s.sessionSocket())) {
            assertEquals(s.sessionId(), second.sessionId(), "a second client of the same session (vineyard's Fork)");
            s.deleteSession();
            assertTrue(Files.exists(socket), "the session lives on while another client is connected");
            assertEquals(1, second.list("vineyard::Tensor*", 10).size());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((Files.exists(socket) || !fits(root, 40 * MIB)) && System.nanoTime() < deadline) {
            Thread.sleep(10); // bounded: the session ends on the daemon's side of the last connection
        }
        assertFalse(Files.exists(socket), "the socket of a deleted session is removed");
        assertTrue(fits(root, 40 * MIB), "a deleted session's memory is free again");
        assertThrows(VineyardException.class, () -> IpcClient.connect(socket.toString()));
        VineyardException rootDelete = assertThrows(VineyardException.class,
                () -> root.connection().request(req("delete_session_request")));
        assertTrue(rootDelete.getMessage().contains("root session"), rootDelete.getMessage());
    }

    @Test
    void aBlobMovedIntoADeletedSessionIsFreedWhenItsReaderInTheRootLetsGo() throws Exception {
        IpcClient root = vineyard.client();
        ObjectId id = root.put(Tensor.of(new long[(int) (40 * MIB / 8)]));
        Tensor held = root.get(id, Tensor.class); // the root's connection holds the blob
        IpcClient s = root.newSession();
        Path socket = Path.of(s.sessionSocket());
        s.shallowCopyFrom(root, id);
        root.delete(id);
        s.deleteSession();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(10); // bounded: the session ends on the daemon's side of its last connection
        }
        assertFalse(Files.exists(socket));
        assertFalse(fits(root, 40 * MIB), "the ended session's blob is still held by the root's reader");
        held.close();
        root.flushReleases();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!fits(root, 40 * MIB) && System.nanoTime() < deadline) {
            Thread.sleep(10); // bounded: the ended session's store lets go of the blob on its own thread
        }
        assertTrue(fits(root, 40 * MIB), "the reader's release freed it, though its session is gone");
    }

    @Test
    void aClientKilledWithMinus9DoesNotEndItsSession() throws Exception {
        IpcClient root = vineyard.client();
        try (IpcClient s = root.newSession()) {
            Process peer = new ProcessBuilder(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), SessionPeer.class.getName(), s.sessionSocket())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8))) {
                assertEquals("put", out.readLine());
                long withUnsealed = s.status().memoryUsage();
                peer.destroyForcibly();
                assertTrue(peer.waitFor(30, TimeUnit.SECONDS));
                ObjectId kept = s.getName("kept");
                assertArrayEquals(new long[] {7, 8, 9}, values(s.get(kept, Tensor.class)));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (s.status().memoryUsage() != withUnsealed - 4096 && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertEquals(withUnsealed - 4096, s.status().memoryUsage(), "the dead client's unsealed blob was freed");
                s.delete(kept);
            } finally {
                peer.destroyForcibly();
            }
        }
    }

    private static ObjectNode req(String type) {
        ObjectNode r = Json.object();
        r.put("type", type);
        return r;
    }

    private static String plasmaId(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aPlasmaSessionServesPlasmaIdsAndFreesWhatItDeletes() {
        IpcConnection root = vineyard.client().connection();
        ObjectNode make = req("new_session_request");
        make.put("bulk_store_type", 2);
        make.put("size", "1Mi");
        String socket = root.request(make).get("socket_path").asText();
        try (IpcConnection p = IpcConnection.connect(socket, 10_000); IpcConnection reader = IpcConnection.connect(socket, 10_000)) {
            ObjectNode create = req("create_buffer_by_plasma_request");
            create.put("plasma_id", plasmaId("obj-1"));
            create.put("size", 1000);
            create.put("plasma_size", 10);
            ObjectNode created = p.request(create);
            assertEquals(plasmaId("obj-1"), created.get("created").get("plasma_id").asText());
            assertFalse(created.get("created").has("is_gpu"));
            ObjectNode get = req("get_buffers_by_plasma_request");
            get.put("num", 1);
            get.put("0", plasmaId("obj-1"));
            get.put("unsafe", false);
            VineyardException unsealed = assertThrows(VineyardException.class, () -> reader.request(get));
            assertEquals(14, unsealed.status().code());
            assertTrue(unsealed.getMessage().contains("obj-1"), unsealed.getMessage());
            ObjectNode seal = req("plasma_seal_request");
            seal.put("plasma_id", plasmaId("obj-1"));
            assertEquals("seal_reply", p.request(seal).get("type").asText());
            ObjectNode got = reader.request(get);
            // the pool's fd follows the reply, unnamed in it (as vineyard's plasma get passes it)
            io.vineyard.common.posix.Posix.close(reader.socket().receiveFd());
            assertEquals(1, got.get("num").asInt());
            assertEquals(10, got.get("0").get("plasma_size").asLong());
            assertEquals(1000, got.get("0").get("data_size").asLong());
            ObjectNode release = req("plasma_release_request");
            release.put("plasma_id", plasmaId("obj-1"));
            assertEquals("plasma_release_reply", reader.request(release).get("type").asText());
            ObjectNode tooBig = req("create_buffer_by_plasma_request");
            tooBig.put("plasma_id", plasmaId("obj-2"));
            tooBig.put("size", 2 * MIB);
            assertEquals(41, assertThrows(VineyardException.class, () -> p.request(tooBig)).status().code());
            ObjectNode delete = req("plasma_delete_data_request");
            delete.put("plasma_id", plasmaId("obj-1"));
            assertEquals("plasma_delete_data_reply", p.request(delete).get("type").asText());
            assertEquals(0, reader.request(get).get("num").asInt(), "a deleted plasma id is gone");
            assertEquals(0, p.request(req("instance_status_request")).get("meta").get("memory_usage").asLong());
            // plasma requests need a plasma session
            assertEquals(1, assertThrows(VineyardException.class, () -> root.request(create)).status().code());
            p.request(req("delete_session_request"));
        }
    }
}
