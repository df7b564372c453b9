package io.vineyard.client;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Where the machine lets shared memory use transparent huge pages on request (shmem_enabled =
 * advise), the daemon's pool and the SDK's mapping of it ask for them (MADV_HUGEPAGE): a fresh blob's
 * pages are then mapped 2 MiB at a time. The test sets the knob itself (root only) and puts the old
 * value back; elsewhere it is skipped.
 */
class HugePagesTest {
    private static final Path KNOB = Path.of("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
    private static final long BLOB = 64L << 20;

    /** kB of {@code field} in the smaps entry of this process's mapping that starts at {@code address}. */
    private static long smapsKb(long address, String field) throws IOException {
        String start = Long.toHexString(address) + "-";
        boolean in = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = line.startsWith(start);
            } else if (in && line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no " + field + " for the mapping at " + start + " in /proc/self/smaps");
    }

    @Test
    void withShmemHugePagesOnRequestAFreshBlobIsMappedInHugePagesAndReadsBackIntact() throws Exception {
        assumeTrue(Files.isWritable(KNOB), "needs root and a kernel with transparent huge pages");
        String before = Files.readString(KNOB).replaceAll(".*\\[(.*)].*\\s*", "$1");
        Thread restore = new Thread(() -> writeKnob(before)); // a JVM stopped mid-test still puts it back
        Runtime.getRuntime().addShutdownHook(restore);
        writeKnob("advise");
        try (DaemonProcess d = DaemonProcess.start("--size=512Mi", "--warm_memory=0");
             IpcClient client = IpcClient.connect(d.socket());
             Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(BLOB, 64);
            for (long i = 0; i < BLOB; i += 8) {
                src.set(ValueLayout.JAVA_LONG, i, i * 31);
            }
            BlobWriter w = client.createBlob(BLOB);
            w.fill(src, 1); // populated (MADV_POPULATE_WRITE) and copied, as a put does
            ObjectId id = w.seal().id();
            MemorySegment pool = client.connection().storeMappings().stream()
                    .max(Comparator.comparingLong(MemorySegment::byteSize)).orElseThrow();
            long pmdKb = smapsKb(pool.address(), "ShmemPmdMapped");
            assertTrue(pmdKb >= (BLOB >> 10) / 2, "at least half the blob mapped in huge pages, got " + pmdKb + " kB");
            try (Blob b = client.get(id, Blob.class)) {
                assertEquals(BLOB, b.size());
                assertEquals(-1, b.segment().mismatch(src), "the blob holds what was written");
            }
            client.delete(id);
        } finally {
            writeKnob(before);
            Runtime.getRuntime().removeShutdownHook(restore);
        }
    }

    private static void writeKnob(String value) {
        try {
            Files.writeString(KNOB, value);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
