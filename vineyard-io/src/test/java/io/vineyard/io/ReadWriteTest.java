package io.vineyard.io;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.TestDaemon;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CSV, Parquet and ORC files on local disk into vineyard tables and back, with vineyard's options and typed errors. */
class ReadWriteTest {
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    @TempDir
    Path dir;

    /** 1000 rows: id int64, score double (every 7th null), name utf8 (every 5th null). */
    static String csv(char delimiter, boolean header) {
        StringBuilder b = new StringBuilder();
        if (header) {
            b.append("id").append(delimiter).append("score").append(delimiter).append("name\n");
        }
        for (int i = 0; i < 1000; i++) {
            b.append(i * 3L).append(delimiter)
                    .append(i % 7 == 0 ? "" : Double.toString(i * 0.5)).append(delimiter)
                    .append(i % 5 == 0 ? "" : "name-" + i).append('\n');
        }
        return b.toString();
    }

    /** The table as rows of strings (null for nulls), batches concatenated. */
    static List<List<String>> rows(ArrowTable t) {
        List<List<String>> out = new ArrayList<>();
        for (VectorSchemaRoot r : t.batches()) {
            for (int i = 0; i < r.getRowCount(); i++) {
                List<String> row = new ArrayList<>();
                for (FieldVector v : r.getFieldVectors()) {
                    Object o = v.getObject(i);
                    row.add(o == null ? null : o.toString());
                }
                out.add(row);
            }
        }
        return out;
    }

    private ArrowTable table(ObjectId id) {
        return vineyard.client().get(id, ArrowTable.class);
    }

    private void assertNothingLeft() {
        assertEquals(List.of(), vineyard.client().list("*", 100), "objects left in the daemon");
        vineyard.assertUsageReturnsTo(vineyard.baseline(), "after the failed operation");
    }

    @Test
    void csvReadsIntoATableWithTheFilesValuesAndTypes() throws IOException {
        Path f = dir.resolve("data.csv");
        Files.writeString(f, csv(',', true));
        ObjectId id = VineyardIO.read(vineyard.client(), f.toString(), Map.of());
        assertEquals("vineyard::Table", vineyard.client().getMeta(id).typename());
        try (ArrowTable t = table(id)) {
            assertEquals(1000, t.rowCount());
            assertEquals(List.of("id", "score", "name"), t.schema().getFields().stream().map(Field::getName).toList());
            assertEquals(new ArrowType.Int(64, true), t.schema().getFields().get(0).getType());
            VectorSchemaRoot first = t.batches().getFirst();
            assertEquals(21L, ((BigIntVector) first.getVector("id")).get(7));
            assertTrue(first.getVector("score").isNull(7));
            assertEquals(4.0, ((Float8Vector) first.getVector("score")).get(8));
            assertEquals("name-8", ((VarCharVector) first.getVector("name")).getObject(8).toString());
            assertEquals("", first.getVector("name").getObject(10).toString(), "Arrow's default: an empty string is not null");
        }
    }

    /**
     * The scanner's small batches (a 1 KB CSV block: about 30 rows each, rarely a multiple of 8) are
     * joined into batches of about {@code batch_rows} rows: values, nulls and booleans bit-exact across
     * the joins (validity bitmaps shifted into place, string offsets rebased).
     */
    @Test
    void smallScanBatchesAreJoinedWithEveryValueAndNullInPlace() throws IOException {
        StringBuilder b = new StringBuilder("id,score,name,flag\n");
        List<List<String>> expected = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            String score = i % 7 == 0 ? null : Double.toString(i * 0.5);
            String name = i % 5 == 0 ? "" : "name-" + i;
            String flag = i % 11 == 0 ? null : Boolean.toString(i % 3 == 0);
            b.append(i * 3L).append(',').append(score == null ? "" : score).append(',').append(name).append(',')
                    .append(flag == null ? "" : flag).append('\n');
            List<String> row = new ArrayList<>();
            row.add(Long.toString(i * 3L));
            row.add(score);
            row.add(name);
            row.add(flag);
            expected.add(row);
        }
        Path f = dir.resolve("small-blocks.csv");
        Files.writeString(f, b);
        ObjectId whole = VineyardIO.read(vineyard.client(), f.toString(), Map.of("block_size", 1024));
        try (ArrowTable t = table(whole)) {
            assertEquals(1, t.batches().size(), "about 35 scan batches joined into one");
            assertEquals(expected, rows(t));
        }
        ObjectId hundreds = VineyardIO.read(vineyard.client(), f.toString(), Map.of("block_size", 1024, "batch_rows", 100));
        try (ArrowTable t = table(hundreds)) {
            assertTrue(t.batches().size() > 1 && t.batches().size() <= 10, "batches of at least 100 rows: " + t.batches().size());
            t.batches().subList(0, t.batches().size() - 1).forEach(r -> assertTrue(r.getRowCount() >= 100));
            assertEquals(expected, rows(t));
        }
        vineyard.client().delete(whole, hundreds);
    }

    @Test
    void vineyardsCsvOptionsDelimiterHeaderRowSchemaAndColumnTypes() throws IOException {
        Path f = dir.resolve("data.txt");
        Files.writeString(f, csv('|', false));
        Map<String, Object> options = Map.of("format", "csv", "delimiter", "|", "header_row", false,
                "schema", "2,f0", "column_types", "string,int32");
        try (ArrowTable t = table(VineyardIO.read(vineyard.client(), f.toString(), options))) {
            assertEquals(List.of("f2", "f0"), t.schema().getFields().stream().map(Field::getName).toList());
            assertEquals(new ArrowType.Int(32, true), t.schema().getFields().get(1).getType());
            VectorSchemaRoot first = t.batches().getFirst();
            assertEquals(9, ((IntVector) first.getVector("f0")).get(3));
            assertEquals("name-3", first.getVector("f2").getObject(3).toString());
        }
        // the same options in the URI's fragment, as vineyard's C++ adaptors take them; include_all_columns adds the rest
        String uri = f.toUri() + "#format=csv&delimiter=|&header_row=false&schema=f1&include_all_columns=true";
        try (ArrowTable t = table(VineyardIO.read(vineyard.client(), uri, Map.of()))) {
            assertEquals(List.of("f1", "f0", "f2"), t.schema().getFields().stream().map(Field::getName).toList());
            assertEquals(1000, t.rowCount());
        }
    }

    @Test
    void parquetCsvAndOrcWriteAndReadBackTheSameValues() throws IOException {
        Path f = dir.resolve("data.csv");
        Files.writeString(f, csv(',', true));
        ObjectId fromCsv = VineyardIO.read(vineyard.client(), f.toString(), Map.of("batch_rows", 300));
        List<List<String>> expected;
        try (ArrowTable t = table(fromCsv)) {
            expected = rows(t);
            assertTrue(t.batches().size() >= 4, "batch_rows=300 gives several batches: " + t.batches().size());
        }
        for (String name : List.of("out.parquet", "out2.csv", "out.orc")) {
            Path out = dir.resolve("sub").resolve(name);
            VineyardIO.write(vineyard.client(), fromCsv, out.toString(), Map.of());
            assertTrue(Files.size(out) > 0, name);
            try (var s = Files.list(out.getParent())) {
                assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".")), "no temporary left beside " + name);
            }
            ObjectId back = VineyardIO.read(vineyard.client(), out.toString(), Map.of());
            try (ArrowTable t = table(back)) {
                assertEquals(expected, rows(t), name);
            }
            vineyard.client().delete(back);
        }
    }

    @Test
    void csvWithAnotherDelimiterIsWrittenAndReadsBackTheSame() throws IOException {
        Path f = dir.resolve("data.csv");
        Files.writeString(f, csv(',', true) + "7,1.5,\"say \"\"hi\"\", |x\"\n");
        ObjectId id = VineyardIO.read(vineyard.client(), f.toString(), Map.of("batch_rows", 300));
        List<List<String>> expected;
        try (ArrowTable t = table(id)) {
            expected = rows(t);
        }
        Path out = dir.resolve("out.csv");
        VineyardIO.write(vineyard.client(), id, out.toString(), Map.of("delimiter", "|"));
        List<String> lines = Files.readAllLines(out);
        assertEquals("\"id\"|\"score\"|\"name\"", lines.getFirst());
        assertEquals("3|0.5|\"name-1\"", lines.get(2));
        try (ArrowTable t = table(VineyardIO.read(vineyard.client(), out.toString(), Map.of("delimiter", "|")))) {
            assertEquals(expected, rows(t), "a quoted delimiter and doubled quotes read back as written");
        }
        // .tsv: tab by default
        Path tsv = dir.resolve("out.tsv");
        VineyardIO.write(vineyard.client(), id, tsv.toString(), Map.of());
        assertTrue(Files.readAllLines(tsv).get(1).startsWith("0\t\t"), Files.readAllLines(tsv).get(1));
        try (ArrowTable t = table(VineyardIO.read(vineyard.client(), tsv.toString(), Map.of()))) {
            assertEquals(expected, rows(t));
        }
        try (var s = Files.list(dir)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".")), "no temporary left");
        }
    }

    @Test
    void orcColumnsOrcCannotHoldAreRefusedByNameAndNothingIsWritten() throws IOException {
        Path f = dir.resolve("data.csv");
        Files.writeString(f, "a,b\n1,2\n");
        ObjectId id = VineyardIO.read(vineyard.client(), f.toString(), Map.of("column_types", "int64,uint64"));
        Path orc = dir.resolve("out.orc");
        IoException.Unsupported e = assertThrows(IoException.Unsupported.class,
                () -> VineyardIO.write(vineyard.client(), id, orc.toString(), Map.of()));
        assertTrue(e.getMessage().contains("column 'b'"), e.getMessage());
        try (var s = Files.list(dir)) {
            assertEquals(List.of("data.csv"), s.map(p -> p.getFileName().toString()).toList(), "no file, no temporary");
        }
    }

    @Test
    void aDirectoryOrAGlobReadsAsOneTable() throws IOException {
        Path parts = Files.createDirectories(dir.resolve("parts"));
        Files.writeString(parts.resolve("a.csv"), "x,y\n1,2\n3,4\n");
        Files.writeString(parts.resolve("b.csv"), "x,y\n5,6\n");
        Files.writeString(parts.resolve("_SUCCESS"), "");
        try (ArrowTable t = table(VineyardIO.read(vineyard.client(), parts.toString(), Map.of()))) {
            assertEquals(3, t.rowCount());
        }
        try (ArrowTable t = table(VineyardIO.read(vineyard.client(), parts.resolve("b*.csv").toString(), Map.of()))) {
            assertEquals(List.of(List.of("5", "6")), rows(t));
        }
    }

    @Test
    void partialReadsSplitTheFilesAmongReaders() throws IOException {
        Path parts = Files.createDirectories(dir.resolve("parts"));
        for (int i = 0; i < 5; i++) {
            Files.writeString(parts.resolve("p" + i + ".csv"), "x\n" + i + "\n" + (i + 10) + "\n");
        }
        List<List<String>> all = new ArrayList<>();
        for (int index = 0; index < 3; index++) {
            try (ArrowTable t = table(VineyardIO.read(vineyard.client(), parts.toString(), Map.of("proc_num", 3, "proc_index", index)))) {
                all.addAll(rows(t));
                assertEquals(index < 2 ? 4 : 2, t.rowCount(), "reader " + index + " of 3 over 5 files");
            }
        }
        assertEquals(10, all.size());
        // more readers than files: an empty table with the files' columns
        try (ArrowTable t = table(VineyardIO.read(vineyard.client(), parts.toString(), Map.of("proc_num", 8, "proc_index", 7)))) {
            assertEquals(0, t.rowCount());
            assertEquals("x", t.schema().getFields().getFirst().getName());
        }
        assertThrows(IoException.Unsupported.class, () -> VineyardIO.read(vineyard.client(), parts.toString(), Map.of("proc_num", 2, "proc_index", 2)));
    }

    @Test
    void aNamedReadIsPersistedUnderItsName() throws IOException {
        Path f = dir.resolve("data.csv");
        Files.writeString(f, "a\n1\n");
        ObjectId id = VineyardIO.read(vineyard.client(), f.toString(), Map.of("name", "small"));
        assertEquals(id, vineyard.client().getName("small"));
        Path out = dir.resolve("small.parquet");
        VineyardIO.write(vineyard.client(), "small", out.toString(), Map.of());
        assertTrue(Files.size(out) > 0);
    }

    @Test
    void aMissingFileIsNotFoundNamingIt() {
        String missing = dir.resolve("nope.csv").toString();
        IoException.NotFound e = assertThrows(IoException.NotFound.class,
                () -> VineyardIO.read(vineyard.client(), missing, Map.of()));
        assertEquals(missing, e.uri());
        assertTrue(e.getMessage().contains(missing), e.getMessage());
        assertNothingLeft();
    }

    @Test
    void aCsvRowWithTheWrongFieldCountIsMalformedAtItsRowAndLeavesNothing() throws IOException {
        StringBuilder b = new StringBuilder("a,b,c\n");
        for (int i = 0; i < 5000; i++) {
            b.append(i).append(",x,").append(i).append('\n');
        }
        b.append("1,2\n");   // data row 5001, line 5002
        Path f = dir.resolve("bad.csv");
        Files.writeString(f, b);
        // small batches: several are already in the daemon when the bad row is reached
        IoException.Malformed e = assertThrows(IoException.Malformed.class,
                () -> VineyardIO.read(vineyard.client(), f.toString(), Map.of("block_size", 4096, "batch_rows", 100)));
        assertEquals(f.toString(), e.uri());
        assertTrue(e.position().startsWith("row "), e.position());
        assertTrue(e.getMessage().contains("Expected 3 columns, got 2"), e.getMessage());
        assertNothingLeft();
    }

    @Test
    void aCorruptParquetFooterIsMalformedAtTheFooter() throws IOException {
        Path f = dir.resolve("data.csv");
        Files.writeString(f, csv(',', true));
        ObjectId id = VineyardIO.read(vineyard.client(), f.toString(), Map.of());
        Path pq = dir.resolve("data.parquet");
        VineyardIO.write(vineyard.client(), id, pq.toString(), Map.of());
        vineyard.client().delete(id);
        byte[] bytes = Files.readAllBytes(pq);
        bytes[bytes.length - 2] ^= 0x55;   // the trailing "PAR1" magic
        Files.write(pq, bytes);
        IoException.Malformed e = assertThrows(IoException.Malformed.class,
                () -> VineyardIO.read(vineyard.client(), pq.toString(), Map.of()));
        assertEquals("footer", e.position());
        assertTrue(e.getMessage().contains(pq.toString()), e.getMessage());
        assertNothingLeft();
    }

    @Test
    void badOptionsAreRefusedByName() throws IOException {
        Path f = dir.resolve("data.csv");
        Files.writeString(f, "a\n1\n");
        IpcClient c = vineyard.client();
        assertTrue(assertThrows(IoException.Unsupported.class, () -> VineyardIO.read(c, f.toString(), Map.of("delimeter", ";")))
                .getMessage().contains("delimeter"));
        assertTrue(assertThrows(IoException.Unsupported.class, () -> VineyardIO.read(c, f.toString(), Map.of("schema", "zz")))
                .getMessage().contains("zz"));
        assertTrue(assertThrows(IoException.Unsupported.class, () -> VineyardIO.read(c, f.toString(), Map.of("column_types", "decimal9")))
                .getMessage().contains("decimal9"));
        assertInstanceOf(IoException.Unsupported.class, assertThrows(IoException.class,
                () -> VineyardIO.read(c, "gs://bucket/x.csv", Map.of())));
        assertNull(assertThrows(IoException.Unsupported.class, () -> VineyardIO.read(c, dir.resolve("x.json").toString(), Map.of("format", "json"))).position());
        assertNothingLeft();
    }
}
