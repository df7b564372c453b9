package io.vineyard.arrow;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Arrow logs through SLF4J: this module brings a provider with it, so an SDK process prints neither
 * SLF4J's "no providers" warning nor Arrow's INFO lines at its first allocation.
 */
class QuietLoggingTest {
    /** An SDK process's first Arrow allocation, in a JVM of its own (SLF4J warns once per JVM). */
    public static final class FirstAllocation {
        public static void main(String[] args) {
            try (RootAllocator allocator = new RootAllocator(); ArrowBuf buf = allocator.buffer(64)) {
                buf.setLong(0, 42);
                System.out.println("allocated " + buf.getLong(0));
            }
        }
    }

    @Test
    void anSdkProcessUsingArrowPrintsOnlyItsOwnOutput() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), FirstAllocation.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertEquals("allocated 42\n", out, "no SLF4J warning, no Arrow log lines");
    }
}
