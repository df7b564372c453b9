package io.vineyard.engines;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.DocSnippets;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs the Java examples of docs/engines.md verbatim and checks that the doc shows this code. */
class EnginesDocExamplesTest {
    private static final Path SOURCE = DocSnippets.repo().resolve(
            "vineyard-engines/src/test/java/io/vineyard/engines/EnginesDocExamplesTest.java");

    /** The Spark example runs in vineyard-spark's test (Spark is not on this module's classpath). */
    private static final Path SPARK_SOURCE = DocSnippets.repo().resolve(
            "vineyard-spark/src/test/java/io/vineyard/spark/VineyardSourceTest.java");

    @Test
    void theDocShowsTheCodeThisTestRuns() throws Exception {
        Path doc = DocSnippets.repo().resolve("docs/engines.md");
        DocSnippets.assertEveryBlockShown(DocSnippets.javaBlocks(doc), doc, SOURCE, SPARK_SOURCE);
    }

    @Test
    void buildInThePoolThenQueryWithDuckDb() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start("--size=64Mi");
             IpcClient client = IpcClient.connect(daemon.socket())) {
            long baseline = client.status().memoryUsage();
            int n = 1000;
            // ---- docs/engines.md, PoolAllocator ----
            try (BufferAllocator pool = PoolAllocator.root(client)) {   // every buffer is a blob of the pool
                BigIntVector k = new BigIntVector("k", pool);
                Float8Vector v = new Float8Vector("v", pool);
                k.allocateNew(n);
                v.allocateNew(n);
                for (int i = 0; i < n; i++) {
                    k.set(i, i % 10);
                    v.set(i, i * 0.5);
                }
                try (VectorSchemaRoot events = new VectorSchemaRoot(List.of(k, v))) {
                    events.setRowCount(n);
                    client.putNamed(events, "events");   // seals the blobs in place: no copy
                }
            }   // the allocator's leak check; blobs of vectors never put would be dropped here
            // ---- end ----
            ObjectId sums;
            // ---- docs/engines.md, DuckDB ----
            try (VineyardDuckDb duck = VineyardDuckDb.open(client)) {
                sums = duck.queryInto("SELECT k, sum(v) AS s FROM vineyard('events') GROUP BY k ORDER BY k", "sums");
                try (ArrowTable top = duck.query("SELECT max(v) AS m FROM vineyard('events')")) {
                    double max = ((Float8Vector) top.batches().getFirst().getVector("m")).get(0);   // 499.5
                }
            }
            // ---- end ----
            try (BufferAllocator read = new RootAllocator(); ArrowTable t = client.get(sums, ArrowTable.class, read)) {
                assertEquals(10, t.rowCount());
                double s3 = 0;
                for (int i = 3; i < n; i += 10) {
                    s3 += i * 0.5;
                }
                assertEquals(s3, ((Float8Vector) t.batches().getFirst().getVector("s")).get(3), 1e-9);
            }
            client.flushReleases();
            for (String name : List.of("events", "sums")) {
                ObjectId id = client.getName(name);
                client.dropName(name);
                client.delete(id);
            }
            assertEquals(baseline, client.status().memoryUsage());
        }
    }
}
