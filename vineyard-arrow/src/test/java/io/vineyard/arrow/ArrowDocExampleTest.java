package io.vineyard.arrow;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.DocSnippets;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the Arrow example of docs/java-sdk.md verbatim and checks that the doc shows this code. */
@Tag("both-protocols")   // also run against daemons without extensions (pom: standard-protocol)
class ArrowDocExampleTest {
    private static final Path SOURCE = DocSnippets.repo().resolve(
            "vineyard-arrow/src/test/java/io/vineyard/arrow/ArrowDocExampleTest.java");

    @Test
    void theDocShowsTheCodeThisTestRuns() throws Exception {
        DocSnippets.assertShown(DocSnippets.repo().resolve("docs/java-sdk.md"), 3, SOURCE);
    }

    private static VectorSchemaRoot batch(BufferAllocator allocator, long first, int rows) {
        BigIntVector v = new BigIntVector("v", allocator);
        v.allocateNew(rows);
        for (int i = 0; i < rows; i++) {
            v.set(i, first + i);
        }
        v.setValueCount(rows);
        return VectorSchemaRoot.of(v);
    }

    @Test
    void arrowExample() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start("--size=64Mi");
             IpcClient client = IpcClient.connect(daemon.socket());
             BufferAllocator source = new RootAllocator();
             VectorSchemaRoot root = batch(source, 0, 100);
             VectorSchemaRoot batch1 = batch(source, 100, 10);
             VectorSchemaRoot batch2 = batch(source, 110, 20)) {
            Schema schema = root.getSchema();
            long baseline = client.status().memoryUsage();
            // ---- docs/java-sdk.md, Arrow ----
            try (BufferAllocator allocator = new RootAllocator()) {
                ObjectId id = client.put(root);                                   // VectorSchemaRoot -> vineyard::RecordBatch
                try (VectorSchemaRoot read = client.get(id, VectorSchemaRoot.class, allocator)) {
                    int rows = read.getRowCount();   // every buffer of `read` is an ArrowBuf over the shared memory
                }
                client.put(new ArrowTable(schema, List.of(batch1, batch2)));      // -> vineyard::Table
            }   // RootAllocator.close() throws if a buffer (so a hold on one of our blobs) leaked
            // ---- end ----
            assertTrue(client.status().memoryUsage() > baseline, "both objects are in the pool");
            try (BufferAllocator allocator = new RootAllocator()) {
                List<io.vineyard.client.meta.ObjectMeta> tables = client.list("vineyard::Table", 10);
                assertEquals(1, tables.size());
                try (ArrowTable table = client.get(tables.get(0).id(), ArrowTable.class, allocator)) {
                    assertEquals(2, table.batches().size());
                    assertEquals(129L, ((BigIntVector) table.batches().get(1).getVector(0)).get(19));
                }
            }
        }
    }
}
