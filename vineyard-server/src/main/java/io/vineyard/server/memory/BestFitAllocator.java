package io.vineyard.server.memory;

import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Hands out 64-byte aligned extents of a fixed-size region by best fit, coalescing neighbours on
 * free.
 *
 * <p>Design note: free extents are indexed twice, by offset (to find neighbours when freeing) and by
 * (size, offset) (to find the smallest extent that fits). Both lookups are O(log n) in the number of
 * free extents, which stays small in practice: a pool that is filled and emptied collapses back to
 * one extent. Best fit with immediate coalescing keeps fragmentation low for large blobs, and a
 * small blob is served from the smallest hole that fits, so it does not split a large one while a
 * small hole exists.
 *
 * <p>Small blobs (up to {@link #SMALL_MAX} bytes) take a fast path: a freed small extent goes onto a
 * per-size LIFO stack (64-byte classes) instead of into the trees, and the next request of that size
 * pops it in O(1). The stacks hold at most 1/64 of the pool (64 MiB at most); when a request cannot be
 * served they are flushed back into the trees (coalescing) before the request fails, so caching never
 * makes an allocation fail. Not thread-safe: the blob store's lock guards it.
 */
public final class BestFitAllocator {
    /** Alignment and granularity of every extent: vineyard's {@code kBlockSize}. */
    public static final long ALIGNMENT = 64;

    private record Extent(long size, long offset) implements Comparable<Extent> {
        @Override
        public int compareTo(Extent o) {
            int c = Long.compare(size, o.size);
            return c != 0 ? c : Long.compare(offset, o.offset);
        }
    }

    /** Largest size served by the small-blob stacks. */
    public static final long SMALL_MAX = 4096;
    private static final int CLASSES = (int) (SMALL_MAX / ALIGNMENT);

    private final long capacity;
    private final long[][] stacks = new long[CLASSES][];
    private final int[] depth = new int[CLASSES];
    private final long cacheLimit;
    private long cachedBytes;
    private final TreeMap<Long, Long> freeByOffset = new TreeMap<>();
    private final TreeSet<Extent> freeBySize = new TreeSet<>();
    private long freeBytes;

    public BestFitAllocator(long capacity) {
        this.capacity = capacity & -ALIGNMENT;
        this.cacheLimit = Math.min(this.capacity / 64, 64L << 20);
        if (this.capacity > 0) {
            addFree(0, this.capacity);
        }
    }

    /** Rounds a request up to the allocation granularity. */
    public static long roundUp(long size) {
        return (size + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /**
     * Allocates {@code size} bytes (rounded up to 64).
     *
     * @return the offset, or -1 when no free extent is large enough (nothing changes then)
     */
    public long allocate(long size) {
        if (size <= 0 || size > capacity) {
            return -1;
        }
        long need = roundUp(size);
        if (need <= SMALL_MAX) {
            int c = (int) (need / ALIGNMENT) - 1;
            if (depth[c] > 0) {
                cachedBytes -= need;
                return stacks[c][--depth[c]];
            }
        }
        Extent fit = freeBySize.ceiling(new Extent(need, 0));
        if (fit == null && cachedBytes > 0) {
            flushCache();
            fit = freeBySize.ceiling(new Extent(need, 0));
        }
        if (fit == null) {
            return -1;
        }
        removeFree(fit.offset, fit.size);
        if (fit.size > need) {
            addFree(fit.offset + need, fit.size - need);
        }
        return fit.offset;
    }

    /** Returns the extent {@code [offset, offset + roundUp(size))} to the free set. */
    public void free(long offset, long size) {
        long len = roundUp(size);
        if (len <= SMALL_MAX && cachedBytes + len <= cacheLimit) {
            int c = (int) (len / ALIGNMENT) - 1;
            long[] stack = stacks[c];
            if (stack == null || depth[c] == stack.length) {
                stacks[c] = stack = java.util.Arrays.copyOf(stack == null ? new long[0] : stack, Math.max(16, depth[c] * 2));
            }
            stack[depth[c]++] = offset;
            cachedBytes += len;
            return;
        }
        coalesce(offset, len);
    }

    /**
     * Takes the free range {@code [offset, offset + size)} (64-byte aligned, inside one free extent, as
     * {@link #forEachFree} reports them) out of the free set, so that no allocation gets it until it is
     * {@link #free freed} again.
     *
     * @throws IllegalArgumentException when the range is not aligned or not wholly free
     */
    public void take(long offset, long size) {
        if (size <= 0 || (offset | size) % ALIGNMENT != 0) {
            throw new IllegalArgumentException("take [" + offset + ", +" + size + "): not a 64-byte aligned range");
        }
        flushCache();
        Map.Entry<Long, Long> e = freeByOffset.floorEntry(offset);
        if (e == null || e.getKey() + e.getValue() < offset + size) {
            throw new IllegalArgumentException("take [" + offset + ", +" + size + "): not a free range");
        }
        long start = e.getKey();
        long end = start + e.getValue();
        removeFree(start, end - start);
        if (offset > start) {
            addFree(start, offset - start);
        }
        if (offset + size < end) {
            addFree(offset + size, end - offset - size);
        }
    }

    /** Calls {@code action(offset, size)} for every free extent (cached small ones coalesced first). */
    public void forEachFree(java.util.function.BiConsumer<Long, Long> action) {
        flushCache();
        freeByOffset.forEach(action);
    }

    /** Moves every cached small extent back into the trees, coalescing with its neighbours. */
    private void flushCache() {
        for (int c = 0; c < CLASSES; c++) {
            long len = (c + 1) * ALIGNMENT;
            for (int i = 0; i < depth[c]; i++) {
                coalesce(stacks[c][i], len);
            }
            depth[c] = 0;
        }
        cachedBytes = 0;
    }

    private void coalesce(long offset, long len) {
        long start = offset;
        Map.Entry<Long, Long> before = freeByOffset.floorEntry(start);
        if (before != null && before.getKey() + before.getValue() == start) {
            removeFree(before.getKey(), before.getValue());
            start = before.getKey();
            len += before.getValue();
        }
        Long afterSize = freeByOffset.get(start + len);
        if (afterSize != null) {
            removeFree(start + len, afterSize);
            len += afterSize;
        }
        addFree(start, len);
    }

    /**
     * Shrinks an allocated extent in place, freeing its tail.
     */
    public void shrink(long offset, long oldSize, long newSize) {
        long oldLen = roundUp(oldSize);
        long newLen = roundUp(newSize);
        if (newLen < oldLen) {
            free(offset + newLen, oldLen - newLen);
        }
    }

    private void addFree(long offset, long size) {
        freeByOffset.put(offset, size);
        freeBySize.add(new Extent(size, offset));
        freeBytes += size;
    }

    private void removeFree(long offset, long size) {
        freeByOffset.remove(offset);
        freeBySize.remove(new Extent(size, offset));
        freeBytes -= size;
    }

    public long capacity() {
        return capacity;
    }

    /** Bytes free, cached small extents included. */
    public long freeBytes() {
        return freeBytes + cachedBytes;
    }

    /** The largest allocation that would succeed now. */
    public long largestFreeExtent() {
        flushCache();
        return freeBySize.isEmpty() ? 0 : freeBySize.last().size;
    }

    /** Number of free extents after coalescing the small-blob stacks (a fragmentation measure). */
    public int freeExtents() {
        flushCache();
        return freeByOffset.size();
    }
}
