package io.vineyard.io;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.TestDaemon;
import io.vineyard.client.stream.ByteStream;
import io.vineyard.client.stream.ByteStreamReader;
import io.vineyard.client.types.GlobalDataFrame;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * hdfs:// reads, writes, serialize/deserialize and read_bytes against a real HDFS (Hadoop's minicluster, a
 * NameNode and a DataNode in a JVM of their own on loopback, started once for the class), and the
 * failures of an unreachable namenode and a missing path as typed errors. The fixtures are put and
 * checked with Hadoop's own client, independently of vineyard-io.
 */
class HdfsTest {
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    private static Path dir;
    private static HdfsServer hdfs;
    private static FileSystem fs;

    @BeforeAll
    static void startHdfs() throws Exception {
        dir = Files.createTempDirectory("vineyard-hdfs-");
        hdfs = HdfsServer.start(dir);
        fs = FileSystem.newInstance(URI.create(hdfs.uri()), new Configuration());
        put("/data/t.csv", ReadWriteTest.csv(',', true).getBytes(StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stopHdfs() throws IOException {
        fs.close();
        hdfs.close();
        TableWriter.deleteTree(dir);
    }

    private static void put(String path, byte[] bytes) throws IOException {
        try (OutputStream out = fs.create(new org.apache.hadoop.fs.Path(path), true)) {
            out.write(bytes);
        }
    }

    private static byte[] get(String path) throws IOException {
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(path))) {
            return in.readAllBytes();
        }
    }

    private static boolean exists(String path) throws IOException {
        return fs.exists(new org.apache.hadoop.fs.Path(path));
    }

    private List<List<String>> rows(ObjectId id) {
        try (ArrowTable t = vineyard.client().get(id, ArrowTable.class)) {
            return ReadWriteTest.rows(t);
        }
    }

    private void assertNothingLeft() {
        assertEquals(List.of(), vineyard.client().list("*", 100));
        vineyard.assertUsageReturnsTo(vineyard.baseline(), "after the failed HDFS operation");
    }

    @Test
    void csvParquetAndOrcOnHdfsReadAsTheirLocalCopiesAndWriteBack() throws IOException {
        Path local = dir.resolve("t.csv");
        Files.write(local, get("/data/t.csv"));
        List<List<String>> expected = rows(VineyardIO.read(vineyard.client(), local.toString(), Map.of()));
        ObjectId fromHdfs = VineyardIO.read(vineyard.client(), hdfs.uri() + "/data/t.csv", Map.of());
        assertEquals(expected, rows(fromHdfs));
        for (String name : List.of("out.parquet", "out.orc", "out.csv")) {
            String target = hdfs.uri() + "/written/" + name;
            VineyardIO.write(vineyard.client(), fromHdfs, target, Map.of());
            assertTrue(get("/written/" + name).length > 0, name + " on HDFS");
            assertEquals(List.of(name), fileNames("/written").stream().filter(n -> n.equals(name) || n.startsWith(".")).toList(),
                    "no temporary left beside " + name);
            // the written file, copied out with Hadoop's client, reads locally as the same table
            Path copy = dir.resolve("copy-" + name);
            Files.write(copy, get("/written/" + name));
            assertEquals(expected, rows(VineyardIO.read(vineyard.client(), copy.toString(), Map.of())), name);
            assertEquals(expected, rows(VineyardIO.read(vineyard.client(), target, Map.of())), name + " read from HDFS");
        }
    }

    private static List<String> fileNames(String path) throws IOException {
        List<String> out = new ArrayList<>();
        for (var s : fs.listStatus(new org.apache.hadoop.fs.Path(path))) {
            out.add(s.getPath().getName());
        }
        return out;
    }

    @Test
    void serializeToHdfsAndDeserializeBack() throws IOException {
        ObjectId table = VineyardIO.read(vineyard.client(), hdfs.uri() + "/data/t.csv", Map.of("batch_rows", 400));
        String target = hdfs.uri() + "/backup/t";
        VineyardIO.serialize(vineyard.client(), table, target, Map.of());
        assertTrue(exists("/backup/t/1-0/metadata.json"), "vineyard's layout on HDFS");
        assertTrue(get("/backup/t/1-0/metadata.json").length > 0);
        assertEquals(List.of("t"), fileNames("/backup"), "the hidden staging directory was renamed");
        ObjectId again = VineyardIO.deserialize(vineyard.client(), target, Map.of());
        assertEquals(rows(table), rows(again));
        assertThrows(IoException.class, () -> VineyardIO.serialize(vineyard.client(), table, target, Map.of()),
                "a non-empty target is refused");
    }

    @Test
    void readBytesFromHdfsFeedsAByteStream() throws IOException {
        byte[] data = new byte[3 << 20];
        new Random(5).nextBytes(data);
        put("/bytes/data.bin", data);
        ObjectId stream = ByteStream.create(vineyard.client(), Map.of());
        VineyardIO.readBytes(vineyard.client(), hdfs.uri() + "/bytes/data.bin", stream, Map.of("chunk_bytes", 1 << 20));
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int chunks = 0;
        try (ByteStreamReader r = ByteStream.openReader(vineyard.client(), stream)) {
            MemorySegment chunk;
            while ((chunk = r.next()) != null) {
                got.write(chunk.toArray(ValueLayout.JAVA_BYTE));
                chunks++;
            }
        }
        assertArrayEquals(data, got.toByteArray());
        assertEquals(3, chunks);
    }

    @Test
    void aDirectoryOnHdfsReadsIntoAGlobalDataFrameOfAChunkPerFile() throws IOException {
        put("/parts/a.csv", "x,y\n1,2\n3,4\n".getBytes(StandardCharsets.UTF_8));
        put("/parts/b.csv", "x,y\n5,6\n".getBytes(StandardCharsets.UTF_8));
        put("/parts/_SUCCESS", new byte[0]);
        ObjectId global = VineyardIO.read(vineyard.client(), hdfs.uri() + "/parts", Map.of("chunks", "file"));
        assertTrue(vineyard.client().getMeta(global).isGlobal());
        List<ObjectId> chunks = vineyard.client().get(global, GlobalDataFrame.class).partitions();
        assertEquals(List.of(List.of(List.of("1", "2"), List.of("3", "4")), List.of(List.of("5", "6"))),
                chunks.stream().map(this::rows).toList());
        try (ArrowTable t = vineyard.client().get(VineyardIO.read(vineyard.client(), hdfs.uri() + "/parts/b*.csv", Map.of()), ArrowTable.class)) {
            assertEquals(1, t.rowCount(), "a glob on HDFS");
        }
    }

    @Test
    void theDocsHdfsExample() throws IOException {
        put("/data/trips.csv", "id|fare\n1|9.5\n2|12.25\n".replace('|', ',').getBytes(StandardCharsets.UTF_8));
        put("/data/parts/a.csv", "x\n1\n".getBytes(StandardCharsets.UTF_8));
        put("/data/parts/b.csv", "x\n2\n".getBytes(StandardCharsets.UTF_8));
        String HDFS = hdfs.uri();
        IpcClient client = vineyard.client();
        // docs/io.md, HDFS
        ObjectId trips = VineyardIO.read(client, HDFS + "/data/trips.csv", Map.of());
        VineyardIO.write(client, trips, HDFS + "/data/trips.parquet", Map.of());             // hidden sibling, renamed over the target
        VineyardIO.serialize(client, trips, HDFS + "/backup/trips", Map.of());
        ObjectId again = VineyardIO.deserialize(client, HDFS + "/backup/trips", Map.of());
        ObjectId parts = VineyardIO.read(client, HDFS + "/data/parts", Map.of("chunks", "file")); // a GlobalDataFrame

        assertEquals(rows(trips), rows(again));
        assertTrue(exists("/data/trips.parquet"));
        assertEquals(2, client.get(parts, GlobalDataFrame.class).partitions().size());
    }

    @Test
    void anUnreachableNamenodeIsUnreachable() throws IOException {
        String closed = "hdfs://127.0.0.1:" + S3Server.freePort();
        IoException.Unreachable e = assertThrows(IoException.Unreachable.class,
                () -> VineyardIO.read(vineyard.client(), closed + "/data/t.csv", Map.of()));
        assertTrue(e.getMessage().contains(closed + "/data/t.csv"), e.getMessage());
        assertNothingLeft();
    }

    @Test
    void aMissingPathIsNotFoundAndAFailedWriteLeavesTheTargetAsItWas() throws IOException {
        IoException.NotFound e = assertThrows(IoException.NotFound.class,
                () -> VineyardIO.read(vineyard.client(), hdfs.uri() + "/data/none.csv", Map.of()));
        assertTrue(e.getMessage().contains("/data/none.csv"), e.getMessage());
        assertThrows(IoException.NotFound.class, () -> VineyardIO.deserialize(vineyard.client(), hdfs.uri() + "/no/backup", Map.of()));
        assertNothingLeft();
        // a corrupt Parquet file on HDFS is Malformed at its footer, named by its HDFS path (not the staged copy)
        put("/data/bad.parquet", "PAR1 not really parquet".getBytes(StandardCharsets.UTF_8));
        IoException.Malformed m = assertThrows(IoException.Malformed.class,
                () -> VineyardIO.read(vineyard.client(), hdfs.uri() + "/data/bad.parquet", Map.of()));
        assertTrue(m.getMessage().startsWith(hdfs.uri() + "/data/bad.parquet"), m.getMessage());
        assertNothingLeft();
        assertFalse(exists("/data/.bad.parquet"), "nothing written");
    }
}
