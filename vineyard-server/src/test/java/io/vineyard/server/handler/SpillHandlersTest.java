package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.server.store.Blob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Spilling through the handlers: watermarks, LRU order, reload, explicit control, files. */
class SpillHandlersTest {
    @TempDir
    Path spillDir;
    private InProcessDaemon daemon;

    @AfterEach
    void checkInvariants() throws IOException {
        if (daemon != null) {
            daemon.close();
            assertEquals(List.of(), spillFiles(), "no spill file outlives the daemon");
        }
    }

    private InProcessDaemon start(String... more) {
        List<String> flags = new ArrayList<>(List.of("--size=8000", "--spill_path=" + spillDir,
                "--spill_lower_rate=0.5", "--spill_upper_rate=0.8"));
        flags.addAll(List.of(more));
        daemon = new InProcessDaemon(flags.toArray(String[]::new));
        return daemon;
    }

    private List<Path> spillFiles() throws IOException {
        try (Stream<Path> s = Files.list(spillDir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".spill")).toList();
        }
    }

    /** Creates a sealed blob of {@code size} bytes filled with {@code fill}, released by its producer. */
    private long put(TestPeer p, int size, byte fill) {
        ObjectNode made = daemon.call(p, "{\"type\":\"create_buffer_request\",\"size\":" + size + "}");
        long id = made.get("id").asLong();
        Blob b = daemon.ctx.locked(() -> daemon.blobs().find(id));
        daemon.blobs().bytes(b).fill(fill);
        daemon.call(p, "{\"type\":\"seal_request\",\"object_id\":" + Long.toUnsignedString(id) + "}");
        daemon.call(p, "{\"type\":\"release_request\",\"object_id\":" + Long.toUnsignedString(id) + "}");
        return id;
    }

    private boolean spilled(TestPeer p, long id) {
        return daemon.call(p, "{\"type\":\"is_spilled_request\",\"id\":" + Long.toUnsignedString(id) + "}")
                .get("is_spilled").asBoolean();
    }

    private boolean inUse(TestPeer p, long id) {
        return daemon.call(p, "{\"type\":\"is_in_use_request\",\"id\":" + Long.toUnsignedString(id) + "}")
                .get("is_in_use").asBoolean();
    }

    /** Gets a blob and checks every byte is {@code fill}; the hold is released again. */
    private void assertContent(TestPeer p, long id, byte fill) {
        ObjectNode got = daemon.call(p, "{\"type\":\"get_buffers_request\",\"ids\":[" + Long.toUnsignedString(id) + "]}");
        assertEquals(1, got.get("num").asInt());
        Blob b = daemon.ctx.locked(() -> daemon.blobs().find(id));
        MemorySegment bytes = daemon.blobs().bytes(b);
        for (long i = 0; i < bytes.byteSize(); i++) {
            assertEquals(fill, bytes.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " of " + id);
        }
        daemon.call(p, "{\"type\":\"release_request\",\"object_id\":" + Long.toUnsignedString(id) + "}");
    }

    @Test
    void theLeastRecentlyReleasedBlobsSpillAndAGetReloadsThem() throws IOException {
        start();
        TestPeer p = daemon.connect(false);
        long a = put(p, 2000, (byte) 1);
        long b = put(p, 2000, (byte) 2);
        long c = put(p, 2000, (byte) 3);
        assertFalse(spilled(p, a), "below the upper watermark nothing spills");
        long d = put(p, 2000, (byte) 4);
        assertTrue(spilled(p, a) && spilled(p, b), "the two oldest spill, down to the lower watermark");
        assertFalse(spilled(p, c) || spilled(p, d));
        assertEquals(2, spillFiles().size());
        assertEquals(4000, daemon.ctx.locked(() -> daemon.blobs().usageBytes()));
        assertContent(p, a, (byte) 1); // reloads a: 6000 bytes in use, below the upper watermark
        assertFalse(spilled(p, a) || spilled(p, c) || spilled(p, d));
        assertContent(p, b, (byte) 2); // b does not fit: the LRU's oldest, c and d, make room
        assertTrue(spilled(p, c) && spilled(p, d));
        assertFalse(spilled(p, a) || spilled(p, b));
        assertContent(p, c, (byte) 3);
        assertContent(p, d, (byte) 4);
    }

    @Test
    void anAllocationThatCannotBeServedSpillsFirstAndFailsOnlyWhenNothingCanSpill() {
        start("--spill_upper_rate=1", "--spill_lower_rate=1");
        TestPeer p = daemon.connect(false);
        long a = put(p, 3000, (byte) 1);
        long b = put(p, 3000, (byte) 2);
        ObjectNode held = daemon.call(p, "{\"type\":\"create_buffer_request\",\"size\":3000}");
        assertTrue(spilled(p, a), "the allocation spilled the oldest blob to fit");
        assertFalse(spilled(p, b));
        daemon.call(p, "{\"type\":\"get_buffers_request\",\"ids\":[" + Long.toUnsignedString(b) + "]}");
        VineyardException e = assertThrows(VineyardException.NotEnoughMemory.class,
                () -> daemon.call(p, "{\"type\":\"create_buffer_request\",\"size\":3000}"));
        assertTrue(e.getMessage().contains("nothing more can be spilled"), e.getMessage());
        daemon.call(p, "{\"type\":\"drop_buffer_request\",\"id\":" + held.get("id") + "}");
    }

    @Test
    void aStreamChunkThatDoesNotFitSpillsTheLruFirst() {
        start("--spill_upper_rate=1", "--spill_lower_rate=1");
        TestPeer p = daemon.connect(false);
        long a = put(p, 3000, (byte) 1);
        long b = put(p, 3000, (byte) 2);
        ObjectNode made = daemon.call(p, "{\"type\":\"create_data_request\",\"content\":{\"typename\":\"vineyard::ByteStream\","
                + "\"params_\":\"{}\",\"nbytes\":0,\"transient\":true,\"instance_id\":0}}");
        String stream = made.get("id").toString();
        daemon.call(p, "{\"type\":\"create_stream_request\",\"object_id\":" + stream + "}");
        daemon.call(p, "{\"type\":\"open_stream_request\",\"object_id\":" + stream + ",\"mode\":2}");
        ObjectNode chunk = daemon.call(p, "{\"type\":\"get_next_stream_chunk_request\",\"id\":" + stream + ",\"size\":3000}");
        assertEquals(3000, chunk.get("buffer").get("data_size").asLong());
        assertTrue(spilled(p, a), "the oldest blob spilled to make room for the chunk");
        assertFalse(spilled(p, b));
        daemon.call(p, "{\"type\":\"stop_stream_request\",\"id\":" + stream + ",\"failed\":true}");
    }

    @Test
    void evictLoadPinAndUnpinReply() throws IOException {
        start("--size=1Mi");
        TestPeer p = daemon.connect(false);
        long a = put(p, 4096, (byte) 7);
        assertFalse(inUse(p, a), "released and sealed: a spill candidate");
        ObjectNode r = daemon.call(p, "{\"type\":\"evict_request\",\"ids\":[" + Long.toUnsignedString(a) + "]}");
        assertEquals("evict_reply", r.get("type").asText());
        assertEquals(1, r.get("evicted").asInt());
        assertTrue(spilled(p, a));
        assertEquals(1, spillFiles().size());
        r = daemon.call(p, "{\"type\":\"load_request\",\"ids\":[" + Long.toUnsignedString(a) + "],\"pin\":true}");
        assertEquals("load_reply", r.get("type").asText());
        assertFalse(spilled(p, a));
        assertEquals(0, spillFiles().size(), "a reload deletes the file");
        assertTrue(inUse(p, a), "pinned: in use");
        VineyardException e = assertThrows(VineyardException.Invalid.class,
                () -> daemon.call(p, "{\"type\":\"evict_request\",\"ids\":[" + Long.toUnsignedString(a) + "]}"));
        assertTrue(e.getMessage().contains("pinned"), e.getMessage());
        daemon.call(p, "{\"type\":\"unpin_request\",\"ids\":[" + Long.toUnsignedString(a) + "]}");
        assertFalse(inUse(p, a));
        daemon.call(p, "{\"type\":\"get_buffers_request\",\"ids\":[" + Long.toUnsignedString(a) + "]}");
        assertTrue(inUse(p, a), "held by a connection: in use");
        e = assertThrows(VineyardException.Invalid.class,
                () -> daemon.call(p, "{\"type\":\"evict_request\",\"ids\":[" + Long.toUnsignedString(a) + "]}"));
        assertTrue(e.getMessage().contains("held by 1 connection"), e.getMessage());
        daemon.call(p, "{\"type\":\"release_request\",\"object_id\":" + Long.toUnsignedString(a) + "}");
        daemon.call(p, "{\"type\":\"evict_request\",\"ids\":[" + Long.toUnsignedString(a) + "]}");
        daemon.call(p, "{\"type\":\"drop_buffer_request\",\"id\":" + Long.toUnsignedString(a) + "}");
        assertEquals(0, spillFiles().size(), "deleting a spilled blob deletes its file");
        assertEquals(0, daemon.ctx.locked(() -> daemon.blobs().spilledBytes()));
    }

    @Test
    void withoutSpillPathEvictIsRefusedAndInUseMeansHeld() {
        daemon = new InProcessDaemon();
        TestPeer p = daemon.connect(false);
        ObjectNode made = daemon.call(p, "{\"type\":\"create_buffer_request\",\"size\":64}");
        long id = made.get("id").asLong();
        assertTrue(inUse(p, id), "its creator holds it");
        VineyardException e = assertThrows(VineyardException.class,
                () -> daemon.call(p, "{\"type\":\"evict_request\",\"ids\":[" + Long.toUnsignedString(id) + "]}"));
        assertEquals(Status.INVALID, e.status());
        assertTrue(e.getMessage().contains("--spill_path"), e.getMessage());
        daemon.call(p, "{\"type\":\"drop_buffer_request\",\"id\":" + Long.toUnsignedString(id) + "}");
    }

    @Test
    void aNewDaemonDeletesTheFilesAnOldOneLeft() throws IOException {
        Path stale = spillDir.resolve("o8000000000000001.1.spill");
        Files.write(stale, new byte[100]);
        Path foreign = spillDir.resolve("notes.txt");
        Files.writeString(foreign, "not ours");
        start();
        assertFalse(Files.exists(stale), "a previous daemon's spill file is gone");
        assertTrue(Files.exists(foreign), "files not named as spill files are left alone");
        assertThrows(IllegalArgumentException.class, () -> new InProcessDaemon("--spill_path=" + spillDir),
                "two daemons never share a spill directory");
    }
}
