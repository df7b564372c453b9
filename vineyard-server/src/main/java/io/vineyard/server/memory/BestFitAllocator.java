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
 * small hole exists. Not thread-safe: the blob store's lock guards it.
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

    private final long capacity;
    private final TreeMap<Long, Long> freeByOffset = new TreeMap<>();
    private final TreeSet<Extent> freeBySize = new TreeSet<>();
    private long freeBytes;

    public BestFitAllocator(long capacity) {
        this.capacity = capacity & -ALIGNMENT;
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
        Extent fit = freeBySize.ceiling(new Extent(need, 0));
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
        long start = offset;
        long len = roundUp(size);
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

    /** Bytes in free extents. */
    public long freeBytes() {
        return freeBytes;
    }

    /** The largest allocation that would succeed now. */
    public long largestFreeExtent() {
        return freeBySize.isEmpty() ? 0 : freeBySize.last().size;
    }

    /** Number of free extents (a fragmentation measure). */
    public int freeExtents() {
        return freeByOffset.size();
    }
}
