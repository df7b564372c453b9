package io.vineyard.arrow;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.stream.ObjectStreamWriter;
import io.vineyard.client.stream.Streams;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RecordBatches through a RecordBatchStream, read as an ArrowReader while the producer goes on. */
class RecordBatchStreamTest {
    private static final Schema SCHEMA = new Schema(List.of(
            Field.nullable("id", new ArrowType.Int(64, true)), Field.nullable("name", ArrowType.Utf8.INSTANCE)));

    private DaemonProcess daemon;
    private BufferAllocator allocator;

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=256Mi");
        allocator = new RootAllocator();
    }

    @AfterEach
    void stop() {
        try {
            allocator.close();
        } finally {
            daemon.close();
        }
    }

    private VectorSchemaRoot batch(int k, int rows) {
        VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
        BigIntVector id = (BigIntVector) root.getVector("id");
        VarCharVector name = (VarCharVector) root.getVector("name");
        for (int i = 0; i < rows; i++) {
            id.setSafe(i, (long) k * rows + i);
            name.setSafe(i, ("b" + k + "r" + i).getBytes(StandardCharsets.UTF_8));
        }
        root.setRowCount(rows);
        return root;
    }

    @Test
    void theConsumerReadsEachBatchWhileTheProducerIsStillWriting() throws Exception {
        try (IpcClient producer = IpcClient.connect(daemon.socket()); IpcClient consumer = IpcClient.connect(daemon.socket())) {
            ObjectId id = RecordBatchStream.create(producer, Map.of("source", "test"));
            assertEquals(Streams.RECORD_BATCH_STREAM, consumer.getMeta(id).typename());
            try (ObjectStreamWriter w = RecordBatchStream.openWriter(producer, id);
                 RecordBatchStreamReader r = RecordBatchStream.openReader(consumer, id, allocator)) {
                try (VectorSchemaRoot first = batch(0, 1000)) {
                    w.write(first);
                }
                // the consumer gets batch 0 before batch 1 exists
                VectorSchemaRoot root = r.getVectorSchemaRoot();
                assertEquals(SCHEMA, root.getSchema());
                assertTrue(r.loadNextBatch());
                assertEquals(1000, root.getRowCount());
                assertEquals(999L, ((BigIntVector) root.getVector("id")).get(999));
                CompletableFuture<Long> rest = CompletableFuture.supplyAsync(() -> {
                    long sum = 0;
                    try {
                        while (r.loadNextBatch()) {
                            BigIntVector ids = (BigIntVector) root.getVector("id");
                            for (int i = 0; i < root.getRowCount(); i++) {
                                sum += ids.get(i);
                            }
                        }
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    return sum;
                }, runnable -> Thread.ofPlatform().start(runnable));
                assertFalse(rest.isDone());
                for (int k = 1; k < 8; k++) {
                    try (VectorSchemaRoot b = batch(k, 1000)) {
                        w.write(b);
                    }
                }
                w.finish();
                long n = 8 * 1000;
                assertEquals(n * (n - 1) / 2 - 999L * 1000 / 2, rest.get(30, TimeUnit.SECONDS));
                assertEquals("b7r999",
                        new String(((VarCharVector) root.getVector("name")).get(999), StandardCharsets.UTF_8));
            }
        }
        assertEquals(0, daemon.streamStats().get("bytes").asLong(), "every chunk was freed at the pull after it");
    }

    @Test
    void theDocExamples() throws Exception {
        try (IpcClient client = IpcClient.connect(daemon.socket()); VectorSchemaRoot batch = batch(0, 10)) {
            long total;
            {
                // ---- docs/streams.md, RecordBatchStream ----
                ObjectId id = RecordBatchStream.create(client, Map.of());              // vineyard::RecordBatchStream
                long rows = 0;
                try (ObjectStreamWriter w = RecordBatchStream.openWriter(client, id);
                     RecordBatchStreamReader r = RecordBatchStream.openReader(client, id, allocator)) {
                    w.write(batch);                                                     // a VectorSchemaRoot
                    w.finish();
                    while (r.loadNextBatch()) {
                        rows += r.getVectorSchemaRoot().getRowCount();                  // zero-copy views of the pool
                    }
                }
                // ---- end ----
                total = rows;
            }
            assertEquals(10, total);
            {
                // ---- RecordBatchStream's Javadoc ----
                ObjectId id = RecordBatchStream.create(client, Map.of());
                try (ObjectStreamWriter w = RecordBatchStream.openWriter(client, id)) {
                    w.write(batch);                 // any number of VectorSchemaRoots with one schema
                    w.finish();
                }
                long rows = 0;
                try (RecordBatchStreamReader r = RecordBatchStream.openReader(client, id, allocator)) {
                    while (r.loadNextBatch()) {
                        VectorSchemaRoot root = r.getVectorSchemaRoot();   // the same root, reloaded per batch
                        rows += root.getRowCount();
                    }
                }
                // ---- end ----
                total = rows;
            }
            assertEquals(10, total);
        }
    }
}
