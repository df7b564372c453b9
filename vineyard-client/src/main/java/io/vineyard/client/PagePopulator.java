package io.vineyard.client;

import io.vineyard.common.posix.Posix;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client's bulk population of fresh pool pages ({@link Prefault#POPULATE_WRITE}): before a blob's
 * bytes are written, {@code madvise} maps the pages this client has not mapped yet, in a system call
 * per run instead of one page fault per 4 KiB page at first touch: {@code MADV_POPULATE_READ} for pages
 * the pool already holds (the daemon's warm part), {@code MADV_POPULATE_WRITE} for the others
 * ({@link Posix#populateShared}).
 *
 * <p>It remembers, per store file, the 2 MiB chunks it populated, because populating pages that are
 * mapped already is not free (the kernel walks every page: about as long as the copy, measured by
 * {@code bin/bench-fresh-put}): a warm pool costs nothing. A chunk the daemon later trims (its pages
 * freed) stays marked; its pages then fault in one by one again, which is only slower, never wrong.
 * {@code MADV_POPULATE_WRITE} does not change data, so a run may include a neighbour's pages.
 *
 * <p>Thread-safe: a chunk is claimed under this object's monitor, populated outside it.
 */
final class PagePopulator {
    /** The unit this client remembers as populated. */
    static final long CHUNK_BYTES = 2L << 20;

    private final Map<Integer, BitSet> populated = new HashMap<>();
    /** False once the kernel refused the advice (before Linux 5.14): then never asked again. */
    private volatile boolean supported = true;

    /**
     * Populates {@code [from, from + length)} of {@code blob}, which lies at {@code fileOffset} of store
     * file {@code storeKey}, except the chunks populated before; marks the chunks it covers whole.
     */
    void populate(int storeKey, long fileOffset, MemorySegment blob, long from, long length) {
        if (!supported || length < Prefault.MIN_BYTES) {
            return;
        }
        long start = fileOffset + from;
        long end = start + length;
        for (long[] run : claim(storeKey, start, end)) {
            if (Posix.populateShared(blob.address() - fileOffset + run[0], run[1] - run[0]) != 0) {
                supported = false;   // an old kernel: the writes fault pages in one by one
                return;
            }
        }
    }

    /** The runs of {@code [start, end)} (file offsets) in chunks not populated yet; marks whole chunks. */
    synchronized List<long[]> claim(int storeKey, long start, long end) {
        BitSet done = populated.computeIfAbsent(storeKey, k -> new BitSet());
        List<long[]> runs = new ArrayList<>();
        long runStart = -1;
        for (long c = start / CHUNK_BYTES; c * CHUNK_BYTES < end; c++) {
            long lo = Math.max(start, c * CHUNK_BYTES);
            long hi = Math.min(end, (c + 1) * CHUNK_BYTES);
            boolean fresh = !done.get((int) c);
            if (fresh && lo == c * CHUNK_BYTES && hi == (c + 1) * CHUNK_BYTES) {
                done.set((int) c);
            }
            if (fresh && runStart < 0) {
                runStart = lo;
            } else if (!fresh && runStart >= 0) {
                runs.add(new long[] {runStart, lo});
                runStart = -1;
            }
            if (fresh && hi == end) {
                runs.add(new long[] {runStart, hi});
            }
        }
        return runs;
    }
}
