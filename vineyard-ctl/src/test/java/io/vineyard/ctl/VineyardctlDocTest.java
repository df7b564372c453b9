package io.vineyard.ctl;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.DocSnippets;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs README.md's vineyardctl session as written, in bash, in a scratch directory whose
 * {@code bin/vineyardctl} runs this build's vineyardctl; only the socket path is the test daemon's.
 */
class VineyardctlDocTest {
    static final String MARKER = "<!-- vineyardctl session: run by VineyardctlDocTest -->";

    /** The first sh block after {@code marker} in {@code doc}. */
    static String shBlockAfter(Path doc, String marker) throws Exception {
        String text = Files.readString(doc);
        int at = text.indexOf(marker);
        assertTrue(at >= 0, "marker in " + doc + ": " + marker);
        int start = text.indexOf("```sh\n", at) + "```sh\n".length();
        return text.substring(start, text.indexOf("```", start));
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void theReadmeSessionRuns() throws Exception {
        String session = shBlockAfter(DocSnippets.repo().resolve("README.md"), MARKER);
        try (DaemonProcess daemon = DaemonProcess.start("--size=256Mi")) {
            Path work = Files.createDirectories(daemon.dir().resolve("work"));
            String out = runSession(daemon, session, work);
            assertTrue(out.matches("(?s)o[0-9a-f]{16}\n(o[0-9a-f]{16})\tvineyard::Tensor<uint8_t>\t3000000\tdata\n.*"), out);
            assertTrue(out.contains("copy.bin\t3000000\n"), out);
            assertTrue(out.contains(sha256(work.resolve("data.bin")) + "  -\n"), "the piped bytes are the file's: " + out);
            assertTrue(out.contains("\nmemory_usage\t3000000\n"), out);
            assertTrue(out.endsWith("\n" + out.substring(0, 17) + "\n"), "the pipeline deleted it: " + out);
            ByteArrayOutputStream left = new ByteArrayOutputStream();
            assertEquals(0, Vineyardctl.run(new String[] {"--socket", daemon.socket(), "ls", "objects"},
                    new PrintStream(left, true, StandardCharsets.UTF_8), System.err, Map.of()));
            assertEquals("", left.toString(StandardCharsets.UTF_8), "nothing left");
        }
    }

    /**
     * Runs a README session in bash in {@code work}, whose {@code bin/vineyardctl} runs this build's
     * vineyardctl, against {@code daemon}; it must exit 0 with nothing on stderr. Returns its stdout.
     */
    static String runSession(DaemonProcess daemon, String session, Path work) throws Exception {
        Path launcher = Files.createDirectories(work.resolve("bin")).resolve("vineyardctl");
        Files.writeString(launcher, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java")
                + "' --enable-native-access=ALL-UNNAMED -cp '" + System.getProperty("java.class.path")
                + "' io.vineyard.ctl.Vineyardctl \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        String script = session.replace("/tmp/vineyard.sock", daemon.socket());
        Process p = new ProcessBuilder("bash", "-euo", "pipefail", "-c", script).directory(work.toFile()).start();
        p.getOutputStream().close();
        var err = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, r -> Thread.ofPlatform().daemon().start(r));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), () -> out + "\n--- stderr\n" + err.join());
        assertEquals("", err.join());
        return out;
    }
}
