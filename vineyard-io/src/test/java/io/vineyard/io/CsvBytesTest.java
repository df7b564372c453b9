package io.vineyard.io;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.ArrowTypes;
import io.vineyard.arrow.RecordBatchStream;
import io.vineyard.arrow.RecordBatchStreamReader;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.TestDaemon;
import io.vineyard.client.stream.ByteStream;
import io.vineyard.client.stream.ByteStreamWriter;
import io.vineyard.common.VineyardException;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * parseBytes: CSV bytes in a ByteStream parsed into a RecordBatchStream while they arrive. The chain
 * file -> readBytes -> ByteStream -> parseBytes -> RecordBatchStream -> consumer runs with the file's reader
 * held (bounded) after a few chunks until the consumer has its first batch: that batch can only come
 * from bytes read before the file's end.
 */
class CsvBytesTest {
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    @TempDir
    Path dir;

    private List<List<String>> consume(IpcClient client, ObjectId batches, CountDownLatch first, List<Long> sizes) throws java.io.IOException {
        List<List<String>> rows = new ArrayList<>();
        try (RecordBatchStreamReader r = RecordBatchStream.openReader(client, batches, ArrowTypes.defaultAllocator())) {
            while (r.loadNextBatch()) {
                VectorSchemaRoot root = r.getVectorSchemaRoot();
                sizes.add((long) root.getRowCount());
                rows.addAll(ReadWriteTest.rows(ArrowTable.of(root)));  // not closed: the reader owns the root
                first.countDown();
            }
        }
        return rows;
    }

    @Test
    void aCsvFileReadIntoAByteStreamIsParsedIntoBatchesBeforeTheFileIsReadToTheEnd() throws Exception {
        Path f = dir.resolve("t.csv");
        Files.writeString(f, ReadWriteTest.csv(',', true));
        IpcClient client = vineyard.client();
        List<List<String>> expected;
        try (ArrowTable t = client.get(VineyardIO.read(client, f.toString(), Map.of()), ArrowTable.class)) {
            expected = ReadWriteTest.rows(t);
        }
        ObjectId bytes = ByteStream.create(client, Map.of("path", f.toString()));
        ObjectId batches = RecordBatchStream.create(client, Map.of());
        CountDownLatch first = new CountDownLatch(1);
        AtomicLong readWhenReleased = new AtomicLong(-1);
        long size = Files.size(f);
        // the file's reader stops after 4 KiB (of about 24 KiB) until the consumer holds its first batch
        VineyardIO.Progress hold = (b, r) -> {
            if (b >= 4096 && first.getCount() > 0) {
                try {
                    assertTrue(first.await(30, TimeUnit.SECONDS), "no batch came out of the bytes read so far");
                    readWhenReleased.set(b);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        // threads of their own: the common pool may have one worker, which the held reader would keep
        ExecutorService threads = Executors.newCachedThreadPool();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> StreamFeeds.readBytes(client, f.toString(), bytes,
                IoOptions.of(f.toString(), Map.of("chunk_bytes", 1024)), hold), threads);
        // three parties, three connections (as three processes would be): a connection waits for one stream at a time
        List<Long> sizes = new ArrayList<>();
        List<List<String>> got;
        try (IpcClient parsing = IpcClient.connect(vineyard.daemon().socket());
             IpcClient consuming = IpcClient.connect(vineyard.daemon().socket())) {
            CompletableFuture<Void> parser = CompletableFuture.runAsync(() -> VineyardIO.parseBytes(parsing, bytes, batches,
                    Map.of("batch_rows", 50), VineyardIO.Progress.NONE), threads);
            try {
                got = consume(consuming, batches, first, sizes);
            } catch (VineyardException e) {
                parser.get(60, TimeUnit.SECONDS);  // the parser's own failure, when it failed the stream
                throw e;
            }
            reader.get(60, TimeUnit.SECONDS);
            parser.get(60, TimeUnit.SECONDS);
        } finally {
            threads.shutdownNow();
        }
        assertTrue(readWhenReleased.get() > 0 && readWhenReleased.get() < size,
                "the first batch arrived with " + readWhenReleased.get() + " of " + size + " bytes read");
        assertEquals(expected, got, "the same values as a read of the file");
        assertEquals(20, sizes.size(), "1000 rows at batch_rows=50: " + sizes);
    }

    @Test
    void typesAreInferredFromTheFirstBatchOrGivenAndHeaderlessColumnsAreNamedLikeArrows() throws Exception {
        IpcClient client = vineyard.client();
        ObjectId bytes = ByteStream.create(client, Map.of());
        ObjectId batches = RecordBatchStream.create(client, Map.of());
        try (ByteStreamWriter w = ByteStream.openWriter(client, bytes)) {
            w.write("1,2.5,true,\"a,b\"\n2,,false,NA\n".getBytes(StandardCharsets.UTF_8));
            w.finish();
        }
        VineyardIO.parseBytes(client, bytes, batches, Map.of("header_row", false, "column_types", ",,,string"), VineyardIO.Progress.NONE);
        try (RecordBatchStreamReader r = RecordBatchStream.openReader(client, batches, ArrowTypes.defaultAllocator())) {
            assertTrue(r.loadNextBatch());
            VectorSchemaRoot root = r.getVectorSchemaRoot();
            assertEquals(List.of("f0", "f1", "f2", "f3"), root.getSchema().getFields().stream().map(x -> x.getName()).toList());
            assertEquals(List.of(new ArrowType.Int(64, true), new ArrowType.FloatingPoint(org.apache.arrow.vector.types.FloatingPointPrecision.DOUBLE),
                    ArrowType.Bool.INSTANCE, ArrowType.Utf8.INSTANCE), root.getSchema().getFields().stream().map(x -> x.getType()).toList());
            assertEquals(List.of(List.of("1", "2.5", "true", "a,b"), java.util.Arrays.asList("2", null, "false", "NA")),
                    ReadWriteTest.rows(ArrowTable.of(root)),
                    "a quoted delimiter stays in its field; NA is a string in a string column (Arrow's strings_can_be_null=false)");
        }
    }

    @Test
    void aRowWithTheWrongFieldCountOrAValueOfAnotherTypeFailsTheBatchStream() throws Exception {
        IpcClient client = vineyard.client();
        for (String[] c : new String[][] {{"a,b\n1,2\n3,4\n5\n", "row 3"}, {"a\n1\n2\nx\n", "row 3"}}) {
            ObjectId bytes = ByteStream.create(client, Map.of());
            ObjectId batches = RecordBatchStream.create(client, Map.of());
            try (ByteStreamWriter w = ByteStream.openWriter(client, bytes)) {
                w.write(c[0].getBytes(StandardCharsets.UTF_8));
                w.finish();
            }
            IoException.Malformed e = assertThrows(IoException.Malformed.class,
                    () -> VineyardIO.parseBytes(client, bytes, batches, Map.of("batch_rows", 2), VineyardIO.Progress.NONE));
            assertEquals(c[1], e.position(), e.getMessage());
            assertTrue(e.getMessage().contains("stream " + bytes), e.getMessage());
            try (RecordBatchStreamReader r = RecordBatchStream.openReader(client, batches, ArrowTypes.defaultAllocator())) {
                assertTrue(r.loadNextBatch(), "the first batch was good and was delivered");
                assertThrows(VineyardException.class, r::loadNextBatch, "then the stream failed");
            }
        }
        ExecutionException unknown = assertThrows(ExecutionException.class, () -> CompletableFuture.runAsync(() ->
                VineyardIO.parseBytes(client, ByteStream.create(client, Map.of()), RecordBatchStream.create(client, Map.of()),
                        Map.of("schema", "a"), VineyardIO.Progress.NONE)).get(30, TimeUnit.SECONDS));
        assertInstanceOf(IoException.Unsupported.class, unknown.getCause());
    }
}
