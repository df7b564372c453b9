package io.vineyard.arrow;

import io.vineyard.common.posix.Posix;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.ForeignAllocation;

import java.lang.foreign.MemorySegment;

/**
 * The validity buffer of an array whose metadata has no bitmap (vineyard's empty {@code null_bitmap_}
 * for an array with no nulls, or all nulls), without allocating and filling one per get.
 *
 * <p>Arrow Java's {@code loadFieldBuffers} allocates a bitmap of {@code length / 8} bytes when it is
 * given an empty one and fills it: for a 10M-row column without nulls that is 1.25 MB allocated and
 * written twice at every get (0.4-0.5 ms of the consumer's load on our machines). Given a bitmap, it
 * keeps it. So each absent bitmap gets a private copy-on-write mapping of a process-wide memfd of
 * {@code 0xFF} bytes (no nulls), or of anonymous zero pages (all nulls): one {@code mmap} per column,
 * no bytes written, and pages mapped only where the bitmap is read. A writer of the vector changes its
 * own copy of the pages it writes, as with a bitmap of its own; the mapping goes when the buffer is released.
 */
final class AbsentValidity {
    private static final Object LOCK = new Object();
    /** The memfd of 0xFF bytes, grown (never shrunk) to the largest bitmap asked for; -1 before the first. */
    private static int onesFd = -1;
    private static long onesSize;

    private AbsentValidity() {
    }

    /**
     * A bitmap of {@code length} bits, all set ({@code allNull} false) or all clear, accounted to
     * {@code allocator}; null when it cannot be mapped (the caller then lets Arrow allocate one).
     */
    static ArrowBuf of(BufferAllocator allocator, long length, boolean allNull) {
        long bytes = (length + 7) / 8;
        long mapped = roundUp(bytes);
        MemorySegment p;
        if (allNull) {
            p = Posix.mmap(mapped, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS, -1, 0);
        } else {
            int fd = onesOfAtLeast(mapped);
            p = fd < 0 ? MemorySegment.NULL : Posix.mmap(mapped, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_PRIVATE, fd, 0);
        }
        if (p.equals(MemorySegment.NULL)) {
            return null;
        }
        MemorySegment at = p;
        try {
            return allocator.wrapForeignAllocation(new ForeignAllocation(bytes, at.address()) {
                @Override
                protected void release0() {
                    Posix.munmap(at, mapped);
                }
            });
        } catch (RuntimeException e) {
            Posix.munmap(at, mapped);
            throw e;
        }
    }

    private static long roundUp(long bytes) {
        return Math.max(Posix.PAGE_SIZE, (bytes + Posix.PAGE_SIZE - 1) / Posix.PAGE_SIZE * Posix.PAGE_SIZE);
    }

    /** The ones memfd, at least {@code size} bytes long (grown by doubling, the new part filled); -1 on failure. */
    private static int onesOfAtLeast(long size) {
        synchronized (LOCK) {
            if (onesSize >= size) {
                return onesFd;
            }
            if (onesFd < 0) {
                onesFd = Posix.memfdCreate("vineyard-validity-ones");
                if (onesFd < 0) {
                    return -1;
                }
            }
            long grown = Math.max(size, 2 * onesSize);
            if (Posix.ftruncate(onesFd, grown) != 0) {
                return -1;
            }
            MemorySegment w = Posix.mmap(grown, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED, onesFd, 0);
            if (w.equals(MemorySegment.NULL)) {
                return -1;
            }
            w.reinterpret(grown).asSlice(onesSize).fill((byte) 0xFF);
            Posix.munmap(w, grown);
            onesSize = grown;
            return onesFd;
        }
    }
}
