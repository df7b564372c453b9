package io.vineyard.io;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.ObjectId;
import io.vineyard.client.TestDaemon;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** s3:// reads and writes against a real S3 API server (s3proxy) on loopback, and its failures as typed errors. */
class S3Test {
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    private static Path dir;
    private static S3Server s3;
    private static Path bucket;

    @BeforeAll
    static void startS3() throws Exception {
        dir = Files.createTempDirectory("vineyard-s3-");
        s3 = S3Server.start(dir);
        bucket = s3.bucket("data");
        Files.writeString(bucket.resolve("t.csv"), ReadWriteTest.csv(',', true));
    }

    @AfterAll
    static void stopS3() {
        s3.close();
        TableWriter.deleteTree(dir);
    }

    private Map<String, Object> opts(String key, String secret) {
        return Map.of("storage_options", s3.storage(key, secret));
    }

    private void assertNothingLeft() {
        assertEquals(List.of(), vineyard.client().list("*", 100));
        vineyard.assertUsageReturnsTo(vineyard.baseline(), "after the failed S3 read");
    }

    @Test
    void aCsvOnS3ReadsAsTheSameTableAsLocallyAndParquetGoesBack() {
        ObjectId fromS3 = VineyardIO.read(vineyard.client(), "s3://data/t.csv", opts(S3Server.KEY, S3Server.SECRET));
        ObjectId local = VineyardIO.read(vineyard.client(), bucket.resolve("t.csv").toString(), Map.of());
        List<List<String>> expected;
        try (ArrowTable a = vineyard.client().get(fromS3, ArrowTable.class); ArrowTable b = vineyard.client().get(local, ArrowTable.class)) {
            expected = ReadWriteTest.rows(b);
            assertEquals(expected, ReadWriteTest.rows(a));
        }
        VineyardIO.write(vineyard.client(), fromS3, "s3://data/out/", Map.of("format", "parquet", "storage_options", s3.storage(S3Server.KEY, S3Server.SECRET)));
        assertTrue(Files.exists(bucket.resolve("out/part-0.parquet")), "the part on the server's backend");
        // an S3 read names an object (Arrow's listing of a prefix finds no "directory" on s3proxy's filesystem backend)
        ObjectId back = VineyardIO.read(vineyard.client(), "s3://data/out/part-0.parquet", Map.of("storage_options", s3.storage(S3Server.KEY, S3Server.SECRET)));
        try (ArrowTable t = vineyard.client().get(back, ArrowTable.class)) {
            assertEquals(expected, ReadWriteTest.rows(t));
        }
        // ORC (ORC's own writer) and CSV with another delimiter (written here) go to S3 the same way
        Map<String, Object> s3opts = Map.of("storage_options", s3.storage(S3Server.KEY, S3Server.SECRET));
        VineyardIO.write(vineyard.client(), fromS3, "s3://data/orc/", Map.of("format", "orc", "storage_options", s3.storage(S3Server.KEY, S3Server.SECRET)));
        VineyardIO.write(vineyard.client(), fromS3, "s3://data/psv/", Map.of("format", "csv", "delimiter", "|", "storage_options", s3.storage(S3Server.KEY, S3Server.SECRET)));
        for (String written : List.of("s3://data/orc/part-0.orc", "s3://data/psv/part-0.csv#delimiter=|")) {
            try (ArrowTable t = vineyard.client().get(VineyardIO.read(vineyard.client(), written, s3opts), ArrowTable.class)) {
                assertEquals(expected, ReadWriteTest.rows(t), written);
            }
        }
    }

    @Test
    void serializeToS3AndDeserializeBackAndReadBytes() throws IOException {
        Map<String, Object> o = opts(S3Server.KEY, S3Server.SECRET);
        ObjectId table = VineyardIO.read(vineyard.client(), "s3://data/t.csv", Map.of("batch_rows", 400, "storage_options", s3.storage(S3Server.KEY, S3Server.SECRET)));
        VineyardIO.serialize(vineyard.client(), table, "s3://data/backup", o);
        assertTrue(Files.isRegularFile(bucket.resolve("backup/1-0/metadata.json")), "vineyard's layout in the bucket");
        try (var s = Files.list(bucket)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".")), "the hidden staging prefix is gone");
        }
        ObjectId again = VineyardIO.deserialize(vineyard.client(), "s3://data/backup", o);
        try (ArrowTable a = vineyard.client().get(table, ArrowTable.class); ArrowTable b = vineyard.client().get(again, ArrowTable.class)) {
            assertEquals(ReadWriteTest.rows(a), ReadWriteTest.rows(b));
        }
        assertThrows(IoException.class, () -> VineyardIO.serialize(vineyard.client(), table, "s3://data/backup", o), "a non-empty target is refused");
        assertThrows(IoException.NotFound.class, () -> VineyardIO.deserialize(vineyard.client(), "s3://data/none", o));

        byte[] data = new byte[(3 << 20) + 17];
        new java.util.Random(9).nextBytes(data);
        Files.write(bucket.resolve("data.bin"), data);
        ObjectId stream = io.vineyard.client.stream.ByteStream.create(vineyard.client(), Map.of());
        VineyardIO.readBytes(vineyard.client(), "s3://data/data.bin", stream, Map.of("chunk_bytes", 1 << 20, "storage_options", s3.storage(S3Server.KEY, S3Server.SECRET)));
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        try (var r = io.vineyard.client.stream.ByteStream.openReader(vineyard.client(), stream)) {
            java.lang.foreign.MemorySegment chunk;
            while ((chunk = r.next()) != null) {
                got.write(chunk.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(data, got.toByteArray());
    }

    @Test
    void wrongCredentialsAreAccessDenied() {
        IoException.AccessDenied e = assertThrows(IoException.AccessDenied.class,
                () -> VineyardIO.read(vineyard.client(), "s3://data/t.csv", opts(S3Server.KEY, "wrong-secret")));
        assertTrue(e.getMessage().contains("s3://data/t.csv"), e.getMessage());
        assertFalse(e.getMessage().contains("wrong-secret"), "no secret in the message: " + e.getMessage());
        IoException.AccessDenied d = assertThrows(IoException.AccessDenied.class,
                () -> VineyardIO.deserialize(vineyard.client(), "s3://data/backup", opts(S3Server.KEY, "wrong-secret")));
        assertFalse(d.getMessage().contains("wrong-secret"), d.getMessage());
        assertNothingLeft();
    }

    @Test
    void aMissingKeyIsNotFound() {
        assertThrows(IoException.NotFound.class,
                () -> VineyardIO.read(vineyard.client(), "s3://data/none.csv", opts(S3Server.KEY, S3Server.SECRET)));
        assertNothingLeft();
    }

    @Test
    void anUnreachableEndpointIsUnreachable() throws IOException {
        int closed = S3Server.freePort();
        Map<String, Object> o = Map.of("storage_options", Map.of("key", S3Server.KEY, "secret", S3Server.SECRET,
                "endpoint_url", "http://127.0.0.1:" + closed, "region", "us-east-1"));
        assertThrows(IoException.Unreachable.class, () -> VineyardIO.read(vineyard.client(), "s3://data/t.csv", o));
        assertNothingLeft();
    }
}
