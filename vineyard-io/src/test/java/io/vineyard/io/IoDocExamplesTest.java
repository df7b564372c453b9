package io.vineyard.io;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.ArrowTypes;
import io.vineyard.arrow.RecordBatchStream;
import io.vineyard.arrow.RecordBatchStreamReader;
import io.vineyard.client.DocSnippets;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.client.TestDaemon;
import io.vineyard.client.stream.ByteStream;
import io.vineyard.client.types.GlobalDataFrame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/io.md's and VineyardIO's Java examples, run as written ({@code dir} is a directory of the test's). */
class IoDocExamplesTest {
    private static final Path SOURCE = DocSnippets.repo().resolve("vineyard-io/src/test/java/io/vineyard/io/IoDocExamplesTest.java");

    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=64Mi");

    @TempDir
    Path tmp;

    @Test
    void everyExampleIsOneTheseTestsRun() throws Exception {
        Path doc = DocSnippets.repo().resolve("docs/io.md");
        DocSnippets.assertEveryBlockShown(DocSnippets.javaBlocks(doc), doc, SOURCE, SOURCE.resolveSibling("HdfsTest.java"));
        Path javadoc = DocSnippets.repo().resolve("vineyard-io/src/main/java/io/vineyard/io/VineyardIO.java");
        DocSnippets.assertEveryBlockShown(DocSnippets.javadocBlocks(javadoc), javadoc, SOURCE);
    }

    @Test
    void theDocsExample() throws Exception {
        String dir = tmp.toString();
        Files.writeString(tmp.resolve("trips.csv"), "id|fare|city\n1|9.5|Paris\n2|12.25|Rome\n3|7|Oslo\n");
        String SOCKET = vineyard.daemon().socket();
        // docs/io.md
        try (IpcClient client = IpcClient.connect(SOCKET)) {
            ObjectId trips = VineyardIO.read(client, dir + "/trips.csv", Map.of("delimiter", "|", "column_types", "int64,,string"));
            try (ArrowTable table = client.get(trips, ArrowTable.class)) {
                long rows = table.rowCount();                                  // 3
            }
            VineyardIO.write(client, trips, dir + "/trips.parquet", Map.of());
            VineyardIO.serialize(client, trips, dir + "/backup", Map.of());    // vineyard's layout, zstd
            ObjectId again = VineyardIO.deserialize(client, dir + "/backup", Map.of());
        }
        assertTrue(Files.size(tmp.resolve("trips.parquet")) > 0);
        var tables = vineyard.client().list("vineyard::Table", 10);
        assertEquals(2, tables.size(), "the read and its deserialized copy");
        for (var t : tables) {
            assertEquals(3, t.getLong("num_rows_"));
        }
    }

    @Test
    void thePartitionedReadExample() throws Exception {
        String dir = tmp.toString();
        Files.createDirectories(tmp.resolve("parts"));
        for (int i = 0; i < 3; i++) {
            Files.writeString(tmp.resolve("parts/part-" + i + ".csv"), "x\n" + i + "\n");
        }
        IpcClient client = vineyard.client();
        // docs/io.md, partitioned reads
        ObjectId parts = VineyardIO.read(client, dir + "/parts", Map.of("chunks", "file"));   // a GlobalDataFrame
        List<ObjectId> chunks = client.get(parts, GlobalDataFrame.class).partitions();        // a Table per file
        // reader 1 of 2: its share of the files as chunks; one reader puts the GlobalDataFrame over all of them
        List<ObjectId> mine = VineyardIO.readChunks(client, dir + "/parts", Map.of("proc_num", 2, "proc_index", 1), VineyardIO.Progress.NONE);
        ObjectId global = client.put(new GlobalDataFrame(mine.size(), 1, mine), PutOptions.persistent());

        assertEquals(3, chunks.size());
        assertEquals(1, mine.size(), "files 0 and 2 are reader 0's, file 1 is reader 1's");
        try (ArrowTable t = client.get(mine.getFirst(), ArrowTable.class)) {
            assertEquals(List.of(List.of("1")), ReadWriteTest.rows(t));
        }
        assertTrue(client.getMeta(global).isGlobal());
    }

    @Test
    void theParseBytesExample() throws Exception {
        String dir = tmp.toString();
        Files.writeString(tmp.resolve("trips.csv"), "id|fare|city\n1|9.5|Paris\n2|12.25|Rome\n3|7|Oslo\n");
        String SOCKET = vineyard.daemon().socket();
        IpcClient client = vineyard.client();
        // docs/io.md, streams
        ObjectId raw = ByteStream.create(client, Map.of("path", dir + "/trips.csv"));
        ObjectId batches = RecordBatchStream.create(client, Map.of());
        Thread parser = Thread.ofPlatform().start(() -> {
            try (IpcClient own = IpcClient.connect(SOCKET)) {                    // a connection waits on one stream at a time
                VineyardIO.parseBytes(own, raw, batches, Map.of("delimiter", "|"), VineyardIO.Progress.NONE);
            }
        });
        VineyardIO.readBytes(client, dir + "/trips.csv", raw, Map.of());          // the parser starts on the first chunk
        long rows = 0;
        try (RecordBatchStreamReader r = RecordBatchStream.openReader(client, batches, ArrowTypes.defaultAllocator())) {
            while (r.loadNextBatch()) {
                rows += r.getVectorSchemaRoot().getRowCount();                    // 3 in all
            }
        }
        parser.join();

        assertEquals(3, rows, "the file's rows, parsed from its bytes");
    }

    @Test
    void theJavadocExample() throws Exception {
        String dir = tmp.toString();
        Files.writeString(tmp.resolve("trips.csv"), "a|b\n1|2\n");
        IpcClient client = vineyard.client();
        // VineyardIO's Javadoc
        ObjectId table = VineyardIO.read(client, dir + "/trips.csv", Map.of("delimiter", "|", "header_row", true));
        VineyardIO.write(client, table, dir + "/trips.parquet", Map.of());
        VineyardIO.serialize(client, table, dir + "/backup", Map.of());    // any object tree, blobs and metadata
        ObjectId again = VineyardIO.deserialize(client, dir + "/backup", Map.of());
        assertEquals(1, client.getMeta(again).getLong("num_rows_"));
    }
}
