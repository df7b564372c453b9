package io.vineyard.graph;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * Writes one CSR's offsets and nbr units ({@link FragmentDescriptor}) into their blobs: a counting sort of
 * the half-edges by row, every run then sorted by neighbour vid, ties kept in input order (so, for one
 * part, ascending eids).
 *
 * <p>Design note. A plain counting sort scatters each unit to a random place of the nbr blob: for a
 * large CSR every write misses the cache and the TLB (the pool has 4 KiB pages). Here the scatter is
 * done in two cache-friendly passes, with the nbr blob itself as the only scratch space:
 * <ol>
 *   <li>the rows are cut into buckets of consecutive rows, about {@value #BUCKET_UNITS} units each; the
 *       units of a bucket occupy one range of the final blob, so, once the units of each bucket are
 *       counted, each half-edge is appended to its bucket's range, as {@code (row << 32 | nbr, eid)} (a
 *       few hundred sequential write streams);</li>
 *   <li>each bucket's range is read into a heap buffer, where its rows' degrees and offsets are counted,
 *       its units scattered by row and its runs sorted; the range is then written back in one bulk copy.</li>
 * </ol>
 * One instance, one thread; instances for different blobs run in parallel.
 */
final class CsrFill {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final int NBR_BYTES = FragmentDescriptor.NBR_BYTES;
    /** The target size of a bucket, in units (16 bytes each): its two heap buffers fit in L2. */
    static final int BUCKET_UNITS = 1 << 14;
    private static final long LOW = 0xFFFF_FFFFL;

    /** The (row, neighbour, eid) half-edges stored in one CSR ({@code eid} null: the eid is the index). */
    record HalfEdges(int[] row, int[] nbr, int[] eid, int count) {
    }

    private final List<HalfEdges> parts;
    private final int rows;
    private final long nbrBase;
    private final MemorySegment nbrs;
    private final MemorySegment off;

    /**
     * A fill of {@code rows} rows from {@code parts} (in that order), neighbours written as
     * {@code nbrBase | nbr}, into the blobs {@code nbrs} (16 bytes per half-edge) and {@code off}
     * ({@code rows + 1} int64).
     */
    CsrFill(List<HalfEdges> parts, int rows, long nbrBase, MemorySegment nbrs, MemorySegment off) {
        this.parts = parts;
        this.rows = rows;
        this.nbrBase = nbrBase;
        this.nbrs = nbrs;
        this.off = off;
    }

    /** Writes both blobs; true when the CSR has parallel edges (one row, the same neighbour twice). */
    boolean run() {
        long units = 0;
        for (HalfEdges h : parts) {
            units += h.count;
        }
        if (rows == 0 || units == 0) {
            off.fill((byte) 0);
            return false;
        }
        int shift = bucketShift(rows, units);
        int buckets = ((rows - 1) >>> shift) + 1;
        // pass 1: the units of each bucket (a small array: no random access to a per-row one)
        long[] cursor = new long[buckets + 1];
        for (HalfEdges h : parts) {
            int[] row = h.row;
            for (int k = 0, n = h.count; k < n; k++) {
                cursor[(row[k] >>> shift) + 1]++;
            }
        }
        int largest = 0;
        for (int b = 0; b < buckets; b++) {
            largest = (int) Math.max(largest, cursor[b + 1]);
            cursor[b + 1] += cursor[b];
        }
        long[] bucketStart = cursor.clone();
        // pass 2: each half-edge appended to its bucket's range of the blob, as (row << 32 | nbr, eid)
        for (HalfEdges h : parts) {
            int[] row = h.row;
            int[] nbr = h.nbr;
            int[] eid = h.eid;
            for (int k = 0, n = h.count; k < n; k++) {
                int r = row[k];
                long at = NBR_BYTES * cursor[r >>> shift]++;
                nbrs.set(LONG, at + FragmentDescriptor.NBR_VID, ((long) r << 32) | nbr[k]);
                nbrs.set(LONG, at + FragmentDescriptor.NBR_EID, eid == null ? k : eid[k]);
            }
        }
        // pass 3, bucket by bucket in the cache: degrees, offsets, the scatter by row, the runs sorted
        long[] staged = new long[2 * largest];
        long[] placed = new long[2 * largest];
        int span = (int) Math.min(rows, 1L << shift);
        int[] runStart = new int[span + 1];
        long[] offsets = new long[span];
        boolean parallel = false;
        for (int b = 0; b < buckets; b++) {
            int r0 = b << shift;
            int nrows = bucketEnd(b, shift) - r0;
            long u0 = bucketStart[b];
            int n = (int) (bucketStart[b + 1] - u0);
            Arrays.fill(runStart, 0, nrows + 1, 0);
            if (n > 0) {
                MemorySegment.copy(nbrs, LONG, u0 * NBR_BYTES, staged, 0, 2 * n);
                for (int i = 0; i < n; i++) {
                    runStart[(int) (staged[2 * i] >>> 32) - r0 + 1]++;
                }
            }
            for (int r = 0; r < nrows; r++) {
                runStart[r + 1] += runStart[r];
                offsets[r] = u0 + runStart[r];
            }
            MemorySegment.copy(offsets, 0, off, LONG, 8L * r0, nrows);
            if (n == 0) {
                continue;
            }
            for (int i = 0; i < n; i++) {
                long key = staged[2 * i];
                int at = runStart[(int) (key >>> 32) - r0]++;
                placed[2 * at] = nbrBase | (key & LOW);
                placed[2 * at + 1] = staged[2 * i + 1];
            }
            // runStart[r] is now the end of run r, the start of run r + 1
            int from = 0;
            for (int r = 0; r < nrows; r++) {
                int to = runStart[r];
                if (to - from > 1) {
                    parallel |= sortRun(placed, from, to - from, staged);
                }
                from = to;
            }
            MemorySegment.copy(placed, 0, nbrs, LONG, u0 * NBR_BYTES, 2 * n);
        }
        off.set(LONG, 8L * rows, units);
        return parallel;
    }

    /** One past the last row of bucket {@code b}. */
    private int bucketEnd(int b, int shift) {
        return (int) Math.min(rows, ((long) b + 1) << shift);
    }

    /** The log2 of the rows per bucket: buckets of about {@link #BUCKET_UNITS} units on average. */
    static int bucketShift(int rows, long units) {
        long rowsPerBucket = Math.max(1, (long) rows * BUCKET_UNITS / units);
        return Math.min(30, 63 - Long.numberOfLeadingZeros(rowsPerBucket));
    }

    /**
     * Sorts the {@code n} units (vid, eid pairs) of {@code b} from unit {@code from} by vid, ties kept in
     * order (insertion sort for short runs, else a sort of (vid offset, position) keys, {@code scratch}
     * holding the copy); true when two units have the same vid.
     */
    private static boolean sortRun(long[] b, int from, int n, long[] scratch) {
        int lo = 2 * from;
        boolean same = false;
        if (n <= 32) {
            // insertion sort: a new unit stops after the last one not above it, which it then equals or not
            for (int i = 1; i < n; i++) {
                long vid = b[lo + 2 * i];
                long eid = b[lo + 2 * i + 1];
                int j = i - 1;
                while (j >= 0 && b[lo + 2 * j] > vid) {
                    b[lo + 2 * j + 2] = b[lo + 2 * j];
                    b[lo + 2 * j + 3] = b[lo + 2 * j + 1];
                    j--;
                }
                b[lo + 2 * j + 2] = vid;
                b[lo + 2 * j + 3] = eid;
                same |= j >= 0 && b[lo + 2 * j] == vid;
            }
            return same;
        }
        boolean sorted = true;
        for (int i = 1; i < n && sorted; i++) {
            sorted = b[lo + 2 * i] >= b[lo + 2 * i - 2];
        }
        if (!sorted) {
            // the run's vids share one label (one CSR, one neighbour label): offsets < 2^31 order them
            long label = b[lo] & ~0x7FFFFFFFL;
            long[] keys = new long[n];
            for (int i = 0; i < n; i++) {
                keys[i] = ((b[lo + 2 * i] - label) << 32) | i;
            }
            Arrays.sort(keys);
            System.arraycopy(b, lo, scratch, 0, 2 * n);
            for (int i = 0; i < n; i++) {
                int at = (int) keys[i];
                b[lo + 2 * i] = scratch[2 * at];
                b[lo + 2 * i + 1] = scratch[2 * at + 1];
            }
        }
        for (int i = 1; i < n; i++) {
            same |= b[lo + 2 * i] == b[lo + 2 * i - 2];
        }
        return same;
    }
}
