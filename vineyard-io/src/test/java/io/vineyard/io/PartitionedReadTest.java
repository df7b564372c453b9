package io.vineyard.io;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.client.TestDaemon;
import io.vineyard.client.cluster.EtcdProcess;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.GlobalDataFrame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Partitioned reads: a directory or glob read in parallel into the chunks of a {@code GlobalDataFrame} (a
 * chunk per file or per batch), {@code proc_num}/{@code proc_index} slicing of files and of one file's
 * batches, all or nothing on failure, and readers on two daemons making one global object.
 */
class PartitionedReadTest {
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    @TempDir
    Path dir;

    private List<List<String>> rows(IpcClient c, ObjectId id) {
        try (ArrowTable t = c.get(id, ArrowTable.class)) {
            return ReadWriteTest.rows(t);
        }
    }

    private List<List<String>> rows(ObjectId id) {
        return rows(vineyard.client(), id);
    }

    /** Four files of 3 + i rows each: x = 100 * file + row, y = its text. */
    private Path parts() throws IOException {
        Path parts = Files.createDirectories(dir.resolve("parts"));
        for (int f = 0; f < 4; f++) {
            StringBuilder b = new StringBuilder("x,y\n");
            for (int r = 0; r < 3 + f; r++) {
                b.append(100 * f + r).append(",v").append(100 * f + r).append('\n');
            }
            Files.writeString(parts.resolve("part-" + f + ".csv"), b.toString());
        }
        Files.writeString(parts.resolve("_SUCCESS"), "");
        return parts;
    }

    @Test
    void aDirectoryReadsInParallelIntoAGlobalDataFrameOfAChunkPerFile() throws IOException {
        Path parts = parts();
        ObjectId id = VineyardIO.read(vineyard.client(), parts.toString(), Map.of("chunks", "file", "name", "parts"));
        ObjectMeta meta = vineyard.client().getMeta(id);
        assertEquals("vineyard::GlobalDataFrame", meta.typename());
        assertTrue(meta.isGlobal());
        assertEquals(id, vineyard.client().getName("parts"));
        GlobalDataFrame g = vineyard.client().get(id, GlobalDataFrame.class);
        assertEquals(4, g.partitionShapeRow());
        assertEquals(1, g.partitionShapeColumn());
        for (int f = 0; f < 4; f++) {
            ObjectId chunk = g.partitions().get(f);
            assertEquals("vineyard::Table", vineyard.client().getMeta(chunk).typename());
            // each chunk is its file, as a plain read of that file gives it
            assertEquals(rows(VineyardIO.read(vineyard.client(), parts.resolve("part-" + f + ".csv").toString(), Map.of())), rows(chunk), "chunk " + f);
        }
        // global=true is the same; a glob too
        ObjectId glob = VineyardIO.read(vineyard.client(), parts.resolve("part-[12].csv").toString(), Map.of("global", true, "parallelism", 1));
        assertEquals(2, vineyard.client().get(glob, GlobalDataFrame.class).partitions().size());
    }

    @Test
    void chunksPerBatchSplitAFileByItsBatches() throws IOException {
        Path csv = dir.resolve("data.csv");
        Files.writeString(csv, ReadWriteTest.csv(',', true));
        ObjectId table = VineyardIO.read(vineyard.client(), csv.toString(), Map.of());
        Path parquet = dir.resolve("data.parquet");
        VineyardIO.write(vineyard.client(), table, parquet.toString(), Map.of());
        List<List<String>> expected = rows(table);
        ObjectId id = VineyardIO.read(vineyard.client(), parquet.toString(), Map.of("chunks", "row_group", "batch_rows", 300));
        List<ObjectId> chunks = vineyard.client().get(id, GlobalDataFrame.class).partitions();
        assertTrue(chunks.size() >= 4, "1000 rows in batches of at most 300: " + chunks.size());
        List<List<String>> all = new ArrayList<>();
        for (ObjectId c : chunks) {
            List<List<String>> r = rows(c);
            assertTrue(r.size() <= 300, "a chunk is one batch: " + r.size());
            all.addAll(r);
        }
        assertEquals(expected, all);
    }

    @Test
    void partialReadsOfOneFileTakeEveryNthBatchAndTogetherCoverIt() throws IOException {
        Path csv = dir.resolve("data.csv");
        Files.writeString(csv, ReadWriteTest.csv(',', true));
        List<List<String>> expected = rows(VineyardIO.read(vineyard.client(), csv.toString(), Map.of()));
        List<List<List<String>>> slices = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            slices.add(rows(VineyardIO.read(vineyard.client(), csv.toString(), Map.of("proc_num", 3, "proc_index", i, "batch_rows", 100))));
        }
        // batches of 100 rows dealt round robin: reader i has rows [100k, 100k + 100) for k = i, i + 3, ...
        for (int i = 0; i < 3; i++) {
            List<List<String>> want = new ArrayList<>();
            for (int k = i; k * 100 < expected.size(); k += 3) {
                want.addAll(expected.subList(k * 100, Math.min(expected.size(), k * 100 + 100)));
            }
            assertEquals(want, slices.get(i), "reader " + i + " of 3");
        }
        // with chunks, a reader's slice of the file is its chunks
        ObjectId mine = VineyardIO.read(vineyard.client(), csv.toString(), Map.of("proc_num", 3, "proc_index", 1, "batch_rows", 100, "chunks", "batch"));
        List<List<String>> got = new ArrayList<>();
        vineyard.client().get(mine, GlobalDataFrame.class).partitions().forEach(c -> got.addAll(rows(c)));
        assertEquals(slices.get(1), got);
    }

    @Test
    void aBadFileAmongManyFailsTheWholeReadAndLeavesNothing() throws IOException {
        Path parts = parts();
        Files.writeString(parts.resolve("part-9.csv"), "x,y\n1,2\n3\n");   // its row 2 has one field
        List<ObjectMeta> before = vineyard.client().list("*", 100);
        IoException.Malformed e = assertThrows(IoException.Malformed.class,
                () -> VineyardIO.read(vineyard.client(), parts.toString(), Map.of("chunks", "file")));
        assertTrue(e.getMessage().contains("part-9.csv"), e.getMessage());
        assertEquals(before, vineyard.client().list("*", 100), "every chunk made is deleted");
        vineyard.assertUsageReturnsTo(vineyard.baseline(), "after the failed partitioned read");
        assertThrows(IoException.Unsupported.class, () -> VineyardIO.read(vineyard.client(), parts.toString(), Map.of("chunks", "rows")));
    }

    @Test
    void readersOnTwoDaemonsMakeOneGlobalDataFrame() throws Exception {
        assumeTrue(EtcdProcess.available(), "etcd-server is not installed (bin/test installs it)");
        Path parts = parts();
        try (EtcdProcess etcd = EtcdProcess.start()) {
            String prefix = "io-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
            String[] flags = {"--meta=etcd", "--etcd_endpoint=" + etcd.endpoint(), "--etcd_prefix=" + prefix, "--size=128Mi"};
            try (DaemonProcess a = DaemonProcess.start(flags); DaemonProcess b = DaemonProcess.start(flags);
                 IpcClient ca = IpcClient.connect(a.socket()); IpcClient cb = IpcClient.connect(b.socket())) {
                // one reader per daemon, each its share of the files (vineyard's proc_index of proc_num), at once
                List<IpcClient> readers = List.of(ca, cb);
                List<CompletableFuture<List<ObjectId>>> reads = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    IpcClient c = readers.get(i);
                    Map<String, Object> o = Map.of("proc_num", 2, "proc_index", i);
                    reads.add(CompletableFuture.supplyAsync(() -> VineyardIO.readChunks(c, parts.toString(), o, VineyardIO.Progress.NONE)));
                }
                List<ObjectId> chunksA = reads.get(0).join();
                List<ObjectId> chunksB = reads.get(1).join();
                assertEquals(2, chunksA.size());
                assertEquals(2, chunksB.size());
                List<ObjectId> all = new ArrayList<>(chunksA);
                all.addAll(chunksB);
                ObjectId global = ca.put(new GlobalDataFrame(all.size(), 1, all), PutOptions.persistent());
                // daemon b sees the global object, and its own chunks are the local ones there
                assertTrue(eventually(() -> cb.exists(global)), "the global object reaches the other daemon");
                GlobalDataFrame seen = cb.get(global, GlobalDataFrame.class);
                assertEquals(all, seen.partitions());
                assertEquals(chunksB, seen.localPartitions(cb));
                assertEquals(chunksA, seen.localPartitions(ca));
                // every row of every file, each once, read where its chunk lives
                Set<String> xs = new HashSet<>();
                for (ObjectId c : chunksA) {
                    rows(ca, c).forEach(r -> assertTrue(xs.add(r.getFirst())));
                }
                for (ObjectId c : chunksB) {
                    rows(cb, c).forEach(r -> assertTrue(xs.add(r.getFirst())));
                }
                assertEquals(3 + 4 + 5 + 6, xs.size());
                assertEquals("0", xs.stream().min(Comparator.comparingInt(Integer::parseInt)).orElseThrow());
            }
        }
    }

    /** A bounded wait on a condition (10 s). */
    private static boolean eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(20);
        }
        return condition.getAsBoolean();
    }
}
