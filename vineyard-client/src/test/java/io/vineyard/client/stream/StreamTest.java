package io.vineyard.client.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.TestDaemon;
import io.vineyard.client.demo.StreamPeer;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Streams between processes: a writer or reader process of {@link StreamPeer} and this one. */
class StreamTest {
    @RegisterExtension
    final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    private Process peer(String mode, ObjectId stream, int count) throws IOException {
        return new ProcessBuilder(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), StreamPeer.class.getName(), mode,
                vineyard.daemon().socket(), stream.toString(), Integer.toString(count))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static BufferedReader out(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }

    private static void kill(Process p) throws InterruptedException {
        p.destroyForcibly();
        p.waitFor();
    }

    @Test
    void elevenChunksFromAWriterProcessArriveInOrderWithTheirSizesThenTheEnd() throws Exception {
        IpcClient client = vineyard.client();
        ObjectId id = ByteStream.create(client, Map.of("kind", "test"));
        assertEquals(Map.of("kind", "test"), Streams.params(client, id));
        Process writer = peer("write", id, 11);
        try (ByteStreamReader r = ByteStream.openReader(client, id)) {
            int k = 0;
            for (MemorySegment chunk : r) {
                k++;
                assertEquals(1L << k, chunk.byteSize(), "chunk " + k);
                for (long i = 0; i < chunk.byteSize(); i++) {
                    assertEquals((byte) k, chunk.get(ValueLayout.JAVA_BYTE, i));
                }
            }
            assertEquals(11, k);
            assertNull(r.next(), "drained");
            assertNull(r.next(), "still drained");
        }
        assertEquals(0, writer.waitFor());
    }

    @Test
    void chunksFromThisProcessArriveInAReaderProcess() throws Exception {
        IpcClient client = vineyard.client();
        ObjectId id = ByteStream.create(client, Map.of());
        Process reader = peer("read", id, 0);
        try (ByteStreamWriter w = ByteStream.openWriter(client, id)) {
            for (int k = 1; k <= 11; k++) {
                w.nextChunk(1L << k).fill((byte) k);
            }
            w.finish();
        }
        BufferedReader lines = out(reader);
        for (int k = 1; k <= 11; k++) {
            assertEquals((1 << k) + " " + k, lines.readLine());
        }
        assertEquals("end", lines.readLine());
        assertEquals(0, reader.waitFor());
    }

    @Test
    void aSecondReaderOrWriterGetsStreamOpened() {
        IpcClient client = vineyard.client();
        ObjectId id = ByteStream.create(client, Map.of());
        try (ByteStreamReader r = ByteStream.openReader(client, id);
             ByteStreamWriter w = ByteStream.openWriter(client, id)) {
            assertEquals(Status.STREAM_OPENED,
                    assertThrows(VineyardException.class, () -> ByteStream.openReader(client, id)).status());
            assertEquals(Status.STREAM_OPENED,
                    assertThrows(VineyardException.class, () -> ByteStream.openWriter(client, id)).status());
            w.write("one".getBytes(StandardCharsets.UTF_8));
            w.finish();
            assertEquals(List.of("one"), r.lines().toList());
        }
    }

    @Test
    void linesSpanChunksAndAnAbortedStreamFailsItsReader() throws Exception {
        IpcClient client = vineyard.client();
        ObjectId id = ByteStream.create(client, Map.of());
        try (ByteStreamWriter w = ByteStream.openWriter(client, id);
             ByteStreamReader r = ByteStream.openReader(client, id)) {
            w.write("a,b\n1,".getBytes(StandardCharsets.UTF_8));
            w.write("2\n3,4".getBytes(StandardCharsets.UTF_8));
            w.write("\n".getBytes(StandardCharsets.UTF_8));
            w.finish();
            assertEquals(List.of("a,b", "1,2", "3,4"), r.lines().toList());
        }
        ObjectId aborted = ByteStream.create(client, Map.of());
        try (ByteStreamWriter w = ByteStream.openWriter(client, aborted);
             ByteStreamReader r = ByteStream.openReader(client, aborted)) {
            w.write(new byte[] {1, 2, 3});
            w.nextChunk(10); // written when the writer gives up: never read
            w.abort();
            assertEquals(3, r.next().byteSize(), "what was queued before the abort is read");
            assertEquals(Status.STREAM_FAILED, assertThrows(VineyardException.class, r::next).status());
        }
    }

    @Test
    void aWriterKilledAfterThreeChunksGivesThreeChunksThenStreamFailedWithinTwoSeconds() throws Exception {
        IpcClient client = vineyard.client();
        ObjectId id = ByteStream.create(client, Map.of());
        Process writer = peer("write-stall", id, 3);
        try (ByteStreamReader r = ByteStream.openReader(client, id)) {
            assertEquals("wrote", out(writer).readLine());
            for (int k = 1; k <= 3; k++) {
                assertEquals((byte) k, r.next().get(ValueLayout.JAVA_BYTE, 0));
            }
            CompletableFuture<Status> end = CompletableFuture.supplyAsync(() -> {
                try {
                    r.next();
                    return Status.OK;
                } catch (VineyardException e) {
                    return e.status();
                }
            }, runnable -> Thread.ofPlatform().start(runnable));
            kill(writer);
            assertEquals(Status.STREAM_FAILED, end.get(2, TimeUnit.SECONDS));
        } finally {
            kill(writer);
        }
        vineyard.assertUsageReturnsTo(vineyard.baseline(), "after the writer's death and the reader's close");
    }

    @Test
    void aReaderKilledMidStreamMakesTheWritersNextWriteFailAndFreesEverything() throws Exception {
        IpcClient client = vineyard.client();
        ObjectId id = ByteStream.create(client, Map.of());
        Process reader = peer("read-stall", id, 0);
        try (ByteStreamWriter w = ByteStream.openWriter(client, id)) {
            w.write(new byte[4096]);
            w.write(new byte[4096]);
            w.write(new byte[4096]);
            assertEquals("pulled", out(reader).readLine());
            kill(reader);
            VineyardException e = assertThrows(VineyardException.class, () -> {
                // the daemon notices the death at once; a write racing it may still be accepted
                for (int k = 0; k < 1000; k++) {
                    w.write(new byte[4096]);
                    client.status();
                }
            });
            assertEquals(Status.INVALID_STREAM_STATE, e.status());
        } finally {
            kill(reader);
        }
        vineyard.assertUsageReturnsTo(vineyard.baseline(), "after the reader's death and the writer's close");
        assertEquals(0, vineyard.daemon().streamStats().get("bytes").asLong());
    }

    @Test
    void aGibibyteThroughAStreamNeverHoldsMoreThanTheThreshold() throws Exception {
        IpcClient client = vineyard.client();
        ObjectId id = ByteStream.create(client, Map.of());
        int chunks = 1024;
        Process writer = peer("write-mib", id, chunks);
        try (ByteStreamReader r = ByteStream.openReader(client, id)) {
            // the reader sleeps until the writer has filled stream memory and waits
            long threshold = vineyard.daemon().streamStats().get("threshold_bytes").asLong();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (vineyard.daemon().status().get("deferred_requests").asInt() == 0) {
                assertTrue(System.nanoTime() < deadline, "the writer never had to wait");
                Thread.onSpinWait();
            }
            ObjectNode full = vineyard.daemon().streamStats();
            assertTrue(full.get("bytes").asLong() + (1 << 20) > threshold,
                    "the writer waits because the next chunk would pass the threshold: " + full);
            int read = 0;
            MemorySegment chunk;
            while ((chunk = r.next()) != null) {
                assertEquals((byte) read, chunk.get(ValueLayout.JAVA_BYTE, 0));
                read++;
            }
            assertEquals(chunks, read);
            ObjectNode after = vineyard.daemon().streamStats();
            assertTrue(after.get("peak_bytes").asLong() <= threshold, "peak stream memory " + after);
            assertEquals("done", out(writer).readLine());
        } finally {
            kill(writer);
        }
    }

    @Test
    void aWriterMayChooseABoundedWaitForStreamMemory() {
        IpcClient client = vineyard.client();
        ObjectId id = ByteStream.create(client, Map.of());
        long threshold = vineyard.daemon().streamStats().get("threshold_bytes").asLong();
        int fits = (int) (threshold / (16 << 20));
        try (ByteStreamWriter w = ByteStream.openWriter(client, id)) {
            w.waitLimit(Duration.ofMillis(100));
            for (int k = 0; k < fits; k++) { // stream memory counts the chunk being written too
                w.nextChunk(16 << 20);
            }
            VineyardException e = assertThrows(VineyardException.class, () -> w.nextChunk(16 << 20));
            assertEquals(Status.NOT_ENOUGH_MEMORY, e.status());
        }
        assertEquals((long) fits << 24, vineyard.daemon().streamStats().get("bytes").asLong(),
                "the writer closed unfinished: its queued chunks wait for a reader");
        Streams.drop(client, id);
        vineyard.assertUsageReturnsTo(vineyard.baseline(), "after the stream was dropped");
    }

    @Test
    void dataFramesThroughADataframeStream() {
        IpcClient client = vineyard.client();
        ObjectId id = DataframeStream.create(client, Map.of());
        try (ObjectStreamWriter w = DataframeStream.openWriter(client, id);
             ObjectStreamReader<DataFrame> r = DataframeStream.openReader(client, id)) {
            for (int k = 0; k < 3; k++) {
                w.write(new DataFrame(List.of("x"), List.of(Tensor.of(new long[] {k, k + 1})), null));
            }
            w.finish();
            List<Long> firsts = new ArrayList<>();
            for (DataFrame df : r) {
                try (DataFrame got = df) {
                    firsts.add(got.column("x").getLong(0));
                }
            }
            assertEquals(List.of(0L, 1L, 2L), firsts);
            assertNull(r.next(), "iterated to the end");
        }
    }

    @Test
    void aParallelStreamNamesItsMemberStreams() {
        IpcClient client = vineyard.client();
        List<ObjectId> parts = List.of(ByteStream.create(client, Map.of()), ByteStream.create(client, Map.of()));
        ObjectId parallel = ParallelStream.create(client, parts);
        assertEquals(parts, ParallelStream.streams(client, parallel));
        for (ObjectId part : parts) {
            try (ByteStreamWriter w = ByteStream.openWriter(client, part)) {
                w.finish();
            }
            try (ByteStreamReader r = ByteStream.openReader(client, part)) {
                assertNull(r.next());
            }
        }
    }
}
