package io.vineyard.graph;

import java.util.Arrays;

/**
 * A heap map from long keys to long values other than -1 (open addressing, linear probing, load at most
 * one half): the loader's oid to row, then oid to gid index while it partitions, without boxing. Not
 * thread-safe while it is written; {@link #get} may be called from several threads once it is not.
 */
public final class LongIndex {
    private static final long ABSENT = -1;
    private long[] keys;
    private long[] values;
    private int mask;
    private int size;

    /** An index sized for {@code expected} keys. */
    public LongIndex(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1;
        keys = new long[cap];
        values = new long[cap];
        Arrays.fill(values, ABSENT);
        mask = cap - 1;
    }

    /** murmur3's 64-bit finaliser: every key bit reaches the low bits (gids differ in their top bits too). */
    private static int spread(long key) {
        long h = key;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) h;
    }

    /**
     * Maps {@code key} to {@code value} unless it is mapped already.
     *
     * @return the value the key had, or -1 when it was new (and is now mapped)
     */
    public long putIfAbsent(long key, long value) {
        if ((size + 1) * 2L > keys.length) {
            grow();
        }
        int i = spread(key) & mask;
        while (values[i] != ABSENT) {
            if (keys[i] == key) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
        return ABSENT;
    }

    /** The value of {@code key}, or -1. */
    public long get(long key) {
        int i = spread(key) & mask;
        long v;
        while ((v = values[i]) != ABSENT) {
            if (keys[i] == key) {
                return v;
            }
            i = (i + 1) & mask;
        }
        return ABSENT;
    }

    /**
     * Replaces each value {@code v} by {@code table[v]}, in one pass over the table (so that a lookup that
     * went through {@code table} afterwards is one probe).
     *
     * @throws IllegalArgumentException if a new value is -1 (the index is then unchanged)
     */
    public void remap(long[] table) {
        long[] mapped = values.clone();
        for (int i = 0; i < mapped.length; i++) {
            if (mapped[i] != ABSENT) {
                mapped[i] = table[(int) mapped[i]];
                if (mapped[i] == ABSENT) {
                    throw new IllegalArgumentException("remap: the key " + keys[i] + " would map to -1");
                }
            }
        }
        values = mapped;
    }

    /** The number of keys. */
    public int size() {
        return size;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(values, ABSENT);
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != ABSENT) {
                putIfAbsent(oldKeys[i], oldValues[i]);
            }
        }
    }
}
