package io.vineyard.common.posix;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PopulateSharedTest {
    private static final long SIZE = 8L << 20;

    @Test
    void populatingAMixOfHeldAndFreshPagesKeepsTheDataAndMapsThemWritable() {
        int fd = Posix.memfdCreate("populate-shared-test");
        assertTrue(fd >= 0);
        try {
            assertEquals(0, Posix.ftruncate(fd, SIZE));
            int prot = Posix.PROT_READ | Posix.PROT_WRITE;
            MemorySegment writer = Posix.mmap(SIZE, prot, Posix.MAP_SHARED, fd, 0).reinterpret(SIZE);
            MemorySegment reader = Posix.mmap(SIZE, prot, Posix.MAP_SHARED, fd, 0).reinterpret(SIZE);
            try {
                // the file holds its first and third quarters (written through one mapping), not the rest
                long q = SIZE / 4;
                for (long off = 0; off < SIZE; off += 4096) {
                    if (off < q || (off >= 2 * q && off < 3 * q)) {
                        writer.set(ValueLayout.JAVA_LONG, off, off ^ 0x5A5A5A5AL);
                    }
                }
                // the other mapping populates the whole range (read-populated and write-populated runs),
                // unaligned at both ends
                assertEquals(0, Posix.populateShared(reader.address() + 100, SIZE - 200));
                for (long off = 0; off < SIZE; off += 4096) {
                    long expected = off < q || (off >= 2 * q && off < 3 * q) ? off ^ 0x5A5A5A5AL : 0;
                    assertEquals(expected, reader.get(ValueLayout.JAVA_LONG, off), "page at " + off + " changed");
                    // writable through the populated mapping, and the same memory as the other one
                    reader.set(ValueLayout.JAVA_LONG, off + 8, ~off);
                    assertEquals(~off, writer.get(ValueLayout.JAVA_LONG, off + 8));
                }
                assertEquals(0, Posix.populateShared(reader.address(), 0), "an empty range is nothing to do");
            } finally {
                Posix.munmap(writer, SIZE);
                Posix.munmap(reader, SIZE);
            }
        } finally {
            Posix.close(fd);
        }
    }
}
