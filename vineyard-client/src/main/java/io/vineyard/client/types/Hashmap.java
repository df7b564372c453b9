package io.vineyard.client.types;

import io.vineyard.client.Hold;

import io.vineyard.client.Blob;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * vineyard's open-addressing hash map, {@code vineyard::Hashmap<K,V,H,E>}, for integer keys (int32, int64,
 * uint32, uint64) and numeric values: an immutable view over the entries blob in the exact layout vineyard's
 * C++ client builds and reads (see {@link HashmapLayout}), so a map built by either side is read by the other.
 * A got map reads the shared memory in place (no copy) and holds its blob until {@link #close()}d.
 *
 * <pre>{@code
 * ObjectId id = client.put(Hashmap.of(Map.of(1L, 10L, 2L, 20L)));     // vineyard::Hashmap<int64,int64,...>
 * try (Hashmap m = client.get(id, Hashmap.class)) {
 *     long v = m.getLong(2);                                          // 20
 *     boolean absent = !m.containsKey(3);
 *     for (Hashmap.Cursor c = m.cursor(); c.next(); ) { c.key(); c.longValue(); }
 * }
 * HashmapBuilder b = Hashmap.builder(DType.INT64, DType.UINT64);        // vineyard's default Hashmap<int64_t, uint64_t>
 * }</pre>
 *
 * <p>Keys and values travel as longs: int32 keys and values sign-extended, uint32 zero-extended, uint64 as
 * their bits (unsigned); float and double values are read with {@link #getDouble}.
 */
public final class Hashmap implements AutoCloseable {
    /**
     * The key hash {@code H}. vineyard's default {@code prime_number_hash_wy<K>} is spelled {@code wy::hash<K>}
     * in typenames, {@code prime_number_hash<K>} is spelled {@code std::hash<K>}; both place keys with ska's
     * prime-number policy. ({@code city::hash} is not supported.)
     */
    public enum Hasher {
        /** {@code wy::hash<K>}: wyhash with the default secret (vineyard's default). */
        WY("wy::hash"),
        /** {@code std::hash<K>}: libstdc++'s identity hash of integers. */
        STD("std::hash");

        private final String cppName;

        Hasher(String cppName) {
            this.cppName = cppName;
        }

        /** The class template's name in typenames. */
        public String cppName() {
            return cppName;
        }
    }

    private final HashmapLayout layout;
    private final Hasher hasher;
    private final long numSlotsMinusOne;
    private final int maxLookups;
    private final long size;
    private final long entryCount;
    private final MemorySegment entries;
    private final Blob blob;
    private final Hold hold;

    Hashmap(HashmapLayout layout, Hasher hasher, long numSlotsMinusOne, int maxLookups, long size, long entryCount,
            MemorySegment entries, Blob blob, Hold hold) {
        if (numSlotsMinusOne < 0 || maxLookups < 0 || size < 0 || size > numSlotsMinusOne + 1
                || entryCount < numSlotsMinusOne + maxLookups + 1
                || entries.byteSize() < entryCount * (long) layout.entryBytes) {
            throw new VineyardException(Status.INVALID, "Hashmap of " + size + " elements, num_slots_minus_one_ "
                    + numSlotsMinusOne + ", max_lookups_ " + maxLookups + ": " + entryCount + " entries in "
                    + entries.byteSize() + " bytes do not fit (" + layout.entryBytes + " bytes per entry)");
        }
        this.layout = layout;
        this.hasher = hasher;
        this.numSlotsMinusOne = numSlotsMinusOne;
        this.maxLookups = maxLookups;
        this.size = size;
        this.entryCount = entryCount;
        this.entries = entries;
        this.blob = blob;
        this.hold = hold;
    }

    /** A builder of maps with these key and value types and vineyard's default hash ({@code wy::hash}). */
    public static HashmapBuilder builder(DType keyType, DType valueType) {
        return new HashmapBuilder(keyType, valueType, Hasher.WY);
    }

    /** A builder with an explicit key hash. */
    public static HashmapBuilder builder(DType keyType, DType valueType, Hasher hasher) {
        return new HashmapBuilder(keyType, valueType, hasher);
    }

    /**
     * An int64 to int64 map with {@code map}'s entries, inserted in its iteration order (the order decides
     * the layout, as it does for vineyard's {@code HashmapBuilder}).
     */
    public static Hashmap of(Map<Long, Long> map) {
        return of(DType.INT64, DType.INT64, map);
    }

    /** A map with these key and value types; values are converted as {@link HashmapBuilder#put} does. */
    public static Hashmap of(DType keyType, DType valueType, Map<? extends Number, ? extends Number> map) {
        HashmapBuilder b = builder(keyType, valueType);
        for (Map.Entry<? extends Number, ? extends Number> e : map.entrySet()) {
            Number v = e.getValue();
            if (v instanceof Double || v instanceof Float) {
                b.put(e.getKey().longValue(), v.doubleValue());
            } else {
                b.put(e.getKey().longValue(), v.longValue());
            }
        }
        return b.build();
    }

    /** The key type K. */
    public DType keyType() {
        return layout.keyType;
    }

    /** The value type V. */
    public DType valueType() {
        return layout.valueType;
    }

    /** The key hash H. */
    public Hasher hasher() {
        return hasher;
    }

    /** The C++ typename, e.g. {@code vineyard::Hashmap<int64,uint64,wy::hash<int64>,std::equal_to<int64>>}. */
    public String typename() {
        return layout.typename(hasher);
    }

    /** The number of keys ({@code num_elements_}). */
    public long size() {
        return size;
    }

    /** Whether there are no keys. */
    public boolean isEmpty() {
        return size == 0;
    }

    /** {@code num_slots_minus_one_}: slots are {@code 0..numSlotsMinusOne()}, a key's home is its hash modulo their number. */
    public long numSlotsMinusOne() {
        return numSlotsMinusOne;
    }

    /** {@code max_lookups_}: no key lies that many slots or more past its home. */
    public int maxLookups() {
        return maxLookups;
    }

    /** The number of entries in the entries blob (slots, then the lookup overflow and the sentinel). */
    public long entryCount() {
        return entryCount;
    }

    /** The entries' bytes (read-only for a got map). */
    public MemorySegment entries() {
        return entries;
    }

    /** Bytes per entry. */
    public int entryBytes() {
        return layout.entryBytes;
    }

    Blob blob() {
        return blob;
    }

    HashmapLayout layout() {
        return layout;
    }

    /**
     * The entry holding {@code key}, or -1: ska's {@code find}: start at the home slot, walk while the
     * entries' distances are not below the walked distance.
     */
    public long slotOf(long key) {
        if (!layout.keyFits(key)) {
            return -1;
        }
        long slot = Long.remainderUnsigned(layout.hash(hasher, key), numSlotsMinusOne + 1);
        for (int distance = 0; slot < entryCount; ++distance, ++slot) {
            if (layout.distance(entries, slot) < distance) {
                return -1;
            }
            if (layout.key(entries, slot) == key) {
                return slot;
            }
        }
        return -1;
    }

    /** Whether {@code key} is in the map. */
    public boolean containsKey(long key) {
        return slotOf(key) >= 0;
    }

    /**
     * The value of {@code key} as a long (floating-point values truncated).
     *
     * @throws NoSuchElementException if the key is absent
     */
    public long getLong(long key) {
        return layout.valueAsLong(layout.valueBits(entries, require(key)));
    }

    /** The value of {@code key}, or {@code defaultValue} when absent. */
    public long getOrDefault(long key, long defaultValue) {
        long slot = slotOf(key);
        return slot < 0 ? defaultValue : layout.valueAsLong(layout.valueBits(entries, slot));
    }

    /**
     * The value of {@code key} as a double.
     *
     * @throws NoSuchElementException if the key is absent
     */
    public double getDouble(long key) {
        return layout.valueAsDouble(layout.valueBits(entries, require(key)));
    }

    private long require(long key) {
        long slot = slotOf(key);
        if (slot < 0) {
            throw new NoSuchElementException("key " + key + " is not in the " + typename());
        }
        return slot;
    }

    /** A cursor over the entries in slot order (vineyard's iteration order). */
    public Cursor cursor() {
        return new Cursor();
    }

    /** A copy of the entries as a {@code Map} of keys to long values, in slot order. */
    public Map<Long, Long> toMap() {
        Map<Long, Long> out = LinkedHashMap.newLinkedHashMap((int) Math.min(size, Integer.MAX_VALUE));
        for (Cursor c = cursor(); c.next(); ) {
            out.put(c.key(), c.longValue());
        }
        return out;
    }

    /** Walks the entries that hold a key, in slot order; no allocation per entry. */
    public final class Cursor {
        // iteration ends at num_slots_minus_one_ + max_lookups_, the sentinel
        private final long end = numSlotsMinusOne + maxLookups;
        private long slot = -1;

        private Cursor() {
        }

        /** Moves to the next key; false at the end. */
        public boolean next() {
            while (++slot < end) {
                if (layout.distance(entries, slot) >= 0) {
                    return true;
                }
            }
            return false;
        }

        /** The entry's index in the entries blob. */
        public long slot() {
            return slot;
        }

        /** The key. */
        public long key() {
            return layout.key(entries, slot);
        }

        /** The value as a long. */
        public long longValue() {
            return layout.valueAsLong(layout.valueBits(entries, slot));
        }

        /** The value as a double. */
        public double doubleValue() {
            return layout.valueAsDouble(layout.valueBits(entries, slot));
        }
    }

    /** Releases the daemon's blob of a got map. */
    @Override
    public void close() {
        Hold.release(hold);
    }

    @Override
    public String toString() {
        return typename() + "[" + size + " keys, " + (numSlotsMinusOne + 1) + " slots]";
    }
}
