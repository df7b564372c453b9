package io.vineyard.client.types;

import io.vineyard.client.Hold;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * vineyard's hash map from string views to uint64, {@code vineyard::Hashmap<std::string_view,uint64,
 * wy::hash<...>,std::equal_to<...>>}, as {@code ArrowVertexMap<std::string_view,uint64>} writes its
 * {@code o2g_} maps: the keys are views into the bytes of another blob (the string array's
 * {@code buffer_data_}), which the map names as its {@code data_buffer_mapped_} member. A view's pointer is
 * an address in the writer's process; {@code data_buffer_} is where that process had the bytes, so a reader
 * finds a key at {@code pointer - data_buffer_} of its own mapping (C++'s {@code diff_}).
 *
 * <pre>
 *  entry (ska::detailv3::sherwood_v3_entry&lt;std::pair&lt;std::string_view,uint64_t&gt;&gt;), 32 bytes:
 *  0      1        8                16                 24               32
 *  +------+--------+----------------+------------------+----------------+
 *  | dist | pad    | length (size_t)| pointer (char *) | value (uint64) |
 *  +------+--------+----------------+------------------+----------------+
 *  libstdc++'s string_view holds its length first, then its pointer.
 *  dist: as in {@link HashmapLayout} (-1 empty, the last entry ska's sentinel).
 *  keys hash with wy::hash&lt;std::string_view&gt; (hash_imp::wyhash of the bytes) and ska's prime policy.
 * </pre>
 *
 * <pre>{@code
 * StringViewHashmap.Builder b = StringViewHashmap.builder(bytes, base);  // bytes: the blob the keys are in
 * b.reserve(n).put(offset, length, value);                                 // in insertion order, as C++
 * ObjectMeta m = ctx.build(b.build(dataBlobMember));                      // in a VineyardType's build
 * try (StringViewHashmap map = client.get(id, StringViewHashmap.class)) { map.get("alice"); }
 * }</pre>
 */
public final class StringViewHashmap implements AutoCloseable {
    /** {@code type_name<std::string_view>()} with libstdc++. */
    public static final String STRING_VIEW = "std::basic_string_view<char,std::char_traits<char>>";
    /** The map's typename (vineyard's default hash and equality, uint64 values). */
    public static final String TYPENAME = "vineyard::Hashmap<" + STRING_VIEW + ",uint64,wy::hash<" + STRING_VIEW
            + ">,std::equal_to<" + STRING_VIEW + ">>";
    static final String ENTRIES_TYPENAME = "vineyard::Array<ska::detailv3::sherwood_v3_entry<std::pair<"
            + STRING_VIEW + ",uint64>>>";
    static final int ENTRY_BYTES = 32;
    private static final int LENGTH_AT = 8;
    private static final int POINTER_AT = 16;
    private static final int VALUE_AT = 24;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    // the metadata's scalars, read by HashmapTypes' build
    final long numSlotsMinusOne;
    final int maxLookups;
    final long size;
    final long entryCount;
    private final MemorySegment entries;
    private final MemorySegment data;
    /** {@code data_buffer_}: the writer's address of the key bytes. */
    final long dataBase;
    /** The member entry of the key bytes' blob, for a map being put. */
    final ObjectMeta dataMember;
    private final Hold hold;

    StringViewHashmap(long numSlotsMinusOne, int maxLookups, long size, long entryCount, MemorySegment entries,
                      MemorySegment data, long dataBase, ObjectMeta dataMember, Hold hold) {
        if (numSlotsMinusOne < 0 || maxLookups < 0 || size < 0 || size > numSlotsMinusOne + 1
                || entryCount < numSlotsMinusOne + maxLookups + 1 || entries.byteSize() < entryCount * ENTRY_BYTES) {
            throw new VineyardException(Status.INVALID, TYPENAME + " of " + size + " elements, num_slots_minus_one_ "
                    + numSlotsMinusOne + ", max_lookups_ " + maxLookups + ": " + entryCount + " entries in "
                    + entries.byteSize() + " bytes do not fit");
        }
        this.numSlotsMinusOne = numSlotsMinusOne;
        this.maxLookups = maxLookups;
        this.size = size;
        this.entryCount = entryCount;
        this.entries = entries;
        this.data = data;
        this.dataBase = dataBase;
        this.dataMember = dataMember;
        this.hold = hold;
    }

    /**
     * A builder of a map whose keys are views into {@code data}, which the writing process has at address
     * {@code base} ({@code data.address()} for a blob being written).
     */
    public static Builder builder(MemorySegment data, long base) {
        return new Builder(data, base);
    }

    /** The number of keys. */
    public long size() {
        return size;
    }

    /** The entries' bytes, {@code num_slots_minus_one_ + max_lookups_ + 1} of them (read-only for a got map). */
    public MemorySegment entries() {
        return entries;
    }

    /** The value of {@code key}, or {@code defaultValue} when absent. */
    public long getOrDefault(String key, long defaultValue) {
        return getOrDefault(key.getBytes(StandardCharsets.UTF_8), defaultValue);
    }

    /** The value of the key with these UTF-8 bytes, or {@code defaultValue}. */
    public long getOrDefault(byte[] key, long defaultValue) {
        MemorySegment k = MemorySegment.ofArray(key);
        long slot = Long.remainderUnsigned(WyHash.hashBytes(k, 0, key.length), numSlotsMinusOne + 1);
        for (int distance = 0; slot < entryCount; ++distance, ++slot) {
            long at = slot * ENTRY_BYTES;
            if (entries.get(ValueLayout.JAVA_BYTE, at) < distance) {
                return defaultValue;
            }
            long length = entries.get(LONG, at + LENGTH_AT);
            if (length == key.length) {
                long offset = entries.get(LONG, at + POINTER_AT) - dataBase;
                if (offset >= 0 && offset + length <= data.byteSize()
                        && MemorySegment.mismatch(data, offset, offset + length, k, 0, length) < 0) {
                    return entries.get(LONG, at + VALUE_AT);
                }
            }
        }
        return defaultValue;
    }

    /** Releases the daemon's blobs of a got map. */
    @Override
    public void close() {
        Hold.release(hold);
    }

    @Override
    public String toString() {
        return TYPENAME + "[" + size + " keys, " + (numSlotsMinusOne + 1) + " slots]";
    }

    /**
     * Builds a map as vineyard's C++ {@code HashmapBuilder<std::string_view,uint64>} does: ska's placement in
     * insertion order, shrunk to fit at {@link #build}. Not thread-safe; builds once.
     */
    public static final class Builder {
        private final MemorySegment data;
        private final long base;
        private final SkaTable table;
        private int count;
        private long[] keyOffset = new long[16];
        private long[] keyLength = new long[16];
        private boolean built;

        Builder(MemorySegment data, long base) {
            this.data = data;
            this.base = base;
            this.table = new SkaTable(new SkaTable.Keys() {
                @Override
                public long hash(long key) {
                    return WyHash.hashBytes(data, keyOffset[(int) key], keyLength[(int) key]);
                }

                @Override
                public boolean equal(long a, long b) {
                    long la = keyLength[(int) a];
                    return la == keyLength[(int) b] && MemorySegment.mismatch(data, keyOffset[(int) a],
                            keyOffset[(int) a] + la, data, keyOffset[(int) b], keyOffset[(int) b] + la) < 0;
                }
            });
        }

        /** Room for {@code n} keys without growing (ska's {@code reserve}). */
        public Builder reserve(long n) {
            table.reserve(n);
            return this;
        }

        /**
         * Maps the key of {@code length} bytes at {@code offset} of the data to {@code value}
         * ({@code builder[view] = value}: a key put again gets the new value in its slot).
         */
        public Builder put(long offset, long length, long value) {
            if (built) {
                throw new IllegalStateException("this builder has built its map already");
            }
            if (offset < 0 || length < 0 || offset + length > data.byteSize()) {
                throw new VineyardException(Status.INVALID, "put: key bytes " + offset + ".." + (offset + length)
                        + " are outside the data's " + data.byteSize() + " bytes");
            }
            if (count == keyOffset.length) {
                keyOffset = java.util.Arrays.copyOf(keyOffset, count * 2);
                keyLength = java.util.Arrays.copyOf(keyLength, count * 2);
            }
            keyOffset[count] = offset;
            keyLength[count] = length;
            long before = table.size();
            table.put(count, value);
            if (table.size() > before) {
                count++;
            }
            return this;
        }

        /**
         * The map, its entries in memory of its own; {@code dataMember} is the member entry of the blob the
         * keys are in (put as {@code data_buffer_mapped_}).
         */
        public StringViewHashmap build(ObjectMeta dataMember) {
            built = true;
            table.shrinkToFit();
            int n = table.entryCount();
            MemorySegment out = Arena.ofAuto().allocate((long) n * ENTRY_BYTES, 8);
            table.forEachEntry((slot, distance, holds, key, value) -> {
                long at = (long) slot * ENTRY_BYTES;
                out.set(ValueLayout.JAVA_BYTE, at, distance);
                out.set(LONG, at + LENGTH_AT, holds ? keyLength[(int) key] : 0);
                out.set(LONG, at + POINTER_AT, holds ? base + keyOffset[(int) key] : 0);
                out.set(LONG, at + VALUE_AT, holds ? value : 0);
            });
            return new StringViewHashmap(table.numSlotsMinusOne(), table.maxLookups(), table.size(), n, out, data, base,
                    dataMember, null);
        }
    }
}
