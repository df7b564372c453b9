package io.vineyard.ctl;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** vineyardctl read / write / serialize / deserialize against a real daemon. */
class IoVerbsTest {
    @RegisterExtension
    final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
    }

    private Result ctl(String... args) {
        List<String> all = new ArrayList<>(List.of("--socket", vineyard.daemon().socket()));
        all.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Vineyardctl.run(all.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String ok(Result r) {
        assertEquals(0, r.exit(), () -> "exit " + r.exit() + ", stderr: " + r.err());
        assertEquals("", r.err());
        return r.out().strip();
    }

    @Test
    void readWriteSerializeDeserializeFromTheShell() throws Exception {
        Path csv = dir.resolve("t.csv");
        Files.writeString(csv, "a|b\n1|x\n2|y\n3|z\n");
        String id = ok(ctl("read", csv.toString(), "-o", "delimiter=|", "--name", "t"));
        assertTrue(id.matches("o[0-9a-f]{16}"), id);
        Path pq = dir.resolve("t.parquet");
        ok(ctl("write", "t", pq.toString()));
        String again = ok(ctl("read", pq.toString()));
        try (IpcClient c = IpcClient.connect(vineyard.daemon().socket())) {
            assertEquals(3, c.getMeta(ObjectId.parse(again)).getLong("num_rows_"));
            assertEquals(c.getName("t"), ObjectId.parse(id));
        }
        Path ser = dir.resolve("ser");
        ok(ctl("serialize", id, ser.toString(), "-o", "compression=none"));
        assertTrue(Files.isRegularFile(ser.resolve("1-0/metadata.json")));
        String back = ok(ctl("deserialize", ser.toString()));
        try (IpcClient c = IpcClient.connect(vineyard.daemon().socket())) {
            assertEquals(3, c.getMeta(ObjectId.parse(back)).getLong("num_rows_"));
        }
    }

    @Test
    void failuresAreOneLineWithTheFileAndAnExitCode() throws Exception {
        Result r = ctl("read", dir.resolve("missing.csv").toString());
        assertEquals(ExitCode.FAILED, r.exit());
        assertTrue(r.err().startsWith("vineyardctl read: ") && r.err().contains("missing.csv"), r.err());
        Path bad = dir.resolve("bad.csv");
        Files.writeString(bad, "a,b\n1,2\n3\n");
        r = ctl("read", bad.toString());
        assertEquals(ExitCode.FAILED, r.exit());
        assertTrue(r.err().contains("row ") && r.err().contains("bad.csv"), r.err());
        assertEquals("", r.out());
    }
}
