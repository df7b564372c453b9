package io.vineyard.io;

import io.vineyard.arrow.RecordBatchStream;
import io.vineyard.arrow.RecordBatchStreamReader;
import io.vineyard.arrow.ArrowTypes;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.TestDaemon;
import io.vineyard.client.stream.ByteStream;
import io.vineyard.client.stream.ByteStreamReader;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** read_bytes into a ByteStream and a file parsed into a RecordBatchStream: the consumer starts before the file is read. */
class StreamFeedsTest {
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    @TempDir
    Path dir;

    /** A progress that, once {@code after} is reached, waits (bounded) until the consumer has its first chunk. */
    private static VineyardIO.Progress holdUntil(CountDownLatch consumerHasFirst, long after, boolean byRows) {
        return (bytes, rows) -> {
            if ((byRows ? rows : bytes) >= after && consumerHasFirst.getCount() > 0) {
                try {
                    assertTrue(consumerHasFirst.await(30, TimeUnit.SECONDS), "the consumer got a chunk while the file was being read");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }

    @Test
    void readBytesFeedsAByteStreamChunkByChunk() throws Exception {
        byte[] data = new byte[10 << 20];
        new Random(3).nextBytes(data);
        Path f = dir.resolve("data.bin");
        Files.write(f, data);
        IpcClient client = vineyard.client();
        ObjectId stream = ByteStream.create(client, Map.of("path", f.toString()));
        CountDownLatch first = new CountDownLatch(1);
        // the producer stops after its second chunk until the consumer has the first: the file is not read to the end yet
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> StreamFeeds.readBytes(client, f.toString(), stream,
                IoOptions.of(f.toString(), Map.of("chunk_bytes", 1 << 20)), holdUntil(first, 2L << 20, false)));
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try (ByteStreamReader r = ByteStream.openReader(client, stream)) {
            MemorySegment chunk;
            while ((chunk = r.next()) != null) {
                got.write(chunk.toArray(ValueLayout.JAVA_BYTE));
                first.countDown();
            }
        }
        producer.get(60, TimeUnit.SECONDS);
        assertArrayEquals(data, got.toByteArray());
    }

    @Test
    void aCsvParsesIntoARecordBatchStreamBatchByBatch() throws Exception {
        Path f = dir.resolve("t.csv");
        Files.writeString(f, ReadWriteTest.csv(',', true));
        IpcClient client = vineyard.client();
        ObjectId stream = RecordBatchStream.create(client, Map.of());
        CountDownLatch first = new CountDownLatch(1);
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> VineyardIO.readBatches(client, f.toString(), stream,
                Map.of("batch_rows", 100), holdUntil(first, 100, true)));
        long rows = 0;
        int batches = 0;
        try (RecordBatchStreamReader r = RecordBatchStream.openReader(client, stream, ArrowTypes.defaultAllocator())) {
            while (r.loadNextBatch()) {
                rows += r.getVectorSchemaRoot().getRowCount();
                batches++;
                first.countDown();
            }
        }
        producer.get(60, TimeUnit.SECONDS);
        assertEquals(1000, rows);
        assertTrue(batches >= 10, "batch_rows=100: " + batches + " batches");
    }

    @Test
    void aBadRowFailsTheStreamAndTheProducer() throws Exception {
        Path f = dir.resolve("bad.csv");
        Files.writeString(f, "a,b\n1,2\n3\n");
        IpcClient client = vineyard.client();
        ObjectId stream = RecordBatchStream.create(client, Map.of());
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> VineyardIO.readBatches(client, f.toString(), stream,
                Map.of(), VineyardIO.Progress.NONE));
        ExecutionException e = assertThrows(ExecutionException.class, () -> producer.get(60, TimeUnit.SECONDS));
        assertInstanceOf(IoException.Malformed.class, e.getCause());
        try (RecordBatchStreamReader r = RecordBatchStream.openReader(client, stream, ArrowTypes.defaultAllocator())) {
            assertThrows(VineyardException.class, () -> {
                while (r.loadNextBatch()) {
                    r.getVectorSchemaRoot();
                }
            });
        }
    }
}
