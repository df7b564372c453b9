package io.vineyard.ctl;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.DocSnippets;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.types.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code evict}, {@code load --pin} and {@code unpin} against a daemon with {@code --spill_path}. */
class VineyardctlSpillTest {
    @TempDir
    Path spill;
    private DaemonProcess daemon;

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=64Mi", "--spill_path=" + spill);
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    private String[] ctl(int expectExit, String... args) {
        return ctl(daemon.socket(), expectExit, args);
    }

    /** Runs vineyardctl in process against {@code socket}: its stdout and stderr. */
    static String[] ctl(String socket, int expectExit, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = new String[args.length + 2];
        all[0] = "--socket";
        all[1] = socket;
        System.arraycopy(args, 0, all, 2, args.length);
        int code = Vineyardctl.run(all, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        assertEquals(expectExit, code, () -> "stderr: " + err);
        return new String[] {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void theReadmeSpillSessionRuns() throws Exception {
        String session = VineyardctlDocTest.shBlockAfter(DocSnippets.repo().resolve("README.md"),
                "<!-- spill session: run by VineyardctlSpillTest -->");
        Path work = Files.createDirectories(daemon.dir().resolve("work"));
        String out = VineyardctlDocTest.runSession(daemon, session, work);
        assertTrue(out.matches("(o[0-9a-f]{16})\n1 blobs spilled\ncopy.bin\t3000000\n\\1\tpinned\n\\1\tin memory\n\\1\n"), out);
        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            assertEquals(0, c.status().memoryUsage(), "the session deleted what it put");
        }
    }

    @Test
    void evictLoadPinAndUnpinByName() {
        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            ObjectId id = c.putNamed(Tensor.of(new double[] {1, 2, 3}), "t");
            assertEquals("1 blobs spilled\n", ctl(0, "evict", "t")[0]);
            assertTrue(c.isSpilled(id));
            assertEquals(id + "\tpinned\n", ctl(0, "load", "--pin", "t")[0]);
            assertFalse(c.isSpilled(id));
            String[] refused = ctl(1, "evict", id.toString());
            assertTrue(refused[1].startsWith("vineyardctl evict: ") && refused[1].contains("pinned"), refused[1]);
            assertEquals(id + "\tin memory\n", ctl(0, "unpin", "t")[0]);
            assertEquals("1 blobs spilled\n", ctl(0, "evict", "t")[0]);
            c.delete(id);
        }
    }
}
