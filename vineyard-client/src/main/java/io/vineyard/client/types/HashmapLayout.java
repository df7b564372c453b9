package io.vineyard.client.types;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The shared-memory layout of a {@code vineyard::Hashmap<K,V,H,E>}: one entry per slot, as
 * {@code ska::detailv3::sherwood_v3_entry<std::pair<K,V>>} (vineyard's {@code thirdparty/flat_hash_map/
 * flat_hash_map.hpp}), copied byte for byte by {@code HashmapBuilder::Build} ({@code modules/basic/ds/hashmap.h})
 * into the blob of the {@code entries_} array.
 *
 * <pre>
 *  entry (sizeof = align + sizeof(pair), align = max(sizeof K, sizeof V)):
 *  0       1            align                 align + roundUp(sizeof K, sizeof V)
 *  +-------+------------+---------------------+---------------------+---------+
 *  | dist  |  padding   |  key (K)            |  value (V)          | padding |
 *  | int8  |            |  pair.first         |  pair.second        |         |
 *  +-------+------------+---------------------+---------------------+---------+
 *
 *  dist = distance_from_desired: -1 empty slot, 0.. probe distance of the key held.
 *  entries: num_slots + max_lookups of them; the last one is ska's sentinel (dist 0, no value).
 *  e.g. K=int64, V=uint64: 24 bytes, key at 8, value at 16; K=int32, V=int32: 12 bytes, key at 4, value at 8.
 * </pre>
 *
 * <p>Integers and floats are little-endian; padding and the payload of empty slots are unspecified (C++
 * leaves them uninitialised; we write zeros).
 */
final class HashmapLayout {
    /** ska's {@code distance_from_desired} of an empty slot. */
    static final byte EMPTY = -1;
    /** ska's {@code special_end_value}: the distance of the sentinel after the last slot. */
    static final byte SPECIAL_END = 0;

    final DType keyType;
    final DType valueType;
    final int entryBytes;
    final int keyOffset;
    final int valueOffset;

    HashmapLayout(DType keyType, DType valueType) {
        this.keyType = requireKey(keyType);
        this.valueType = valueType;
        int k = keyType.byteSize();
        int v = valueType.byteSize();
        int align = Math.max(k, v);
        int valueInPair = roundUp(k, v);
        this.keyOffset = align;
        this.valueOffset = align + valueInPair;
        this.entryBytes = align + roundUp(valueInPair + v, align);
    }

    private static int roundUp(int n, int to) {
        return (n + to - 1) / to * to;
    }

    static DType requireKey(DType keyType) {
        return switch (keyType) {
            case INT32, INT64, UINT32, UINT64 -> keyType;
            case FLOAT, DOUBLE -> throw new VineyardException(Status.TYPE_ERROR,
                    "Hashmap keys must be integers, not " + keyType);
        };
    }

    /**
     * vineyard's {@code type_name<T>()} spelling ({@code src/common/util/typename.h}: {@code int32_t} is
     * {@code int}, {@code int64_t} is {@code int64}, {@code uint32_t} is {@code uint}, {@code uint64_t} is
     * {@code uint64}; others print as the compiler names them).
     */
    static String vineyardName(DType t) {
        return switch (t) {
            case INT32 -> "int";
            case INT64 -> "int64";
            case UINT32 -> "uint";
            case UINT64 -> "uint64";
            case FLOAT -> "float";
            case DOUBLE -> "double";
        };
    }

    /** {@code vineyard::Hashmap<K,V,H,E>} as {@code type_name} spells it: no spaces. */
    String typename(Hashmap.Hasher hasher) {
        String k = vineyardName(keyType);
        return "vineyard::Hashmap<" + k + "," + vineyardName(valueType) + "," + hasher.cppName() + "<" + k + ">"
                + ",std::equal_to<" + k + ">>";
    }

    /** The typename of the {@code entries_} member, {@code vineyard::Array<Entry>}. */
    String entriesTypename() {
        return "vineyard::Array<ska::detailv3::sherwood_v3_entry<std::pair<" + vineyardName(keyType) + ","
                + vineyardName(valueType) + ">>>";
    }

    byte distance(MemorySegment entries, long slot) {
        return entries.get(ValueLayout.JAVA_BYTE, slot * entryBytes);
    }

    /** The key at {@code slot}, widened to a long (int32 sign-extended, uint32 zero-extended). */
    long key(MemorySegment entries, long slot) {
        return read(keyType, entries, slot * entryBytes + keyOffset);
    }

    /** The value bits at {@code slot}: integers widened as keys, float and double as their raw bits. */
    long valueBits(MemorySegment entries, long slot) {
        return read(valueType, entries, slot * entryBytes + valueOffset);
    }

    private static long read(DType t, MemorySegment s, long offset) {
        return switch (t) {
            case INT32 -> s.get(ValueLayout.JAVA_INT_UNALIGNED, offset);
            case UINT32, FLOAT -> Integer.toUnsignedLong(s.get(ValueLayout.JAVA_INT_UNALIGNED, offset));
            case INT64, UINT64, DOUBLE -> s.get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
        };
    }

    void write(MemorySegment entries, long slot, byte distance, long key, long valueBits) {
        long base = slot * entryBytes;
        entries.set(ValueLayout.JAVA_BYTE, base, distance);
        writeBits(keyType, entries, base + keyOffset, key);
        writeBits(valueType, entries, base + valueOffset, valueBits);
    }

    private static void writeBits(DType t, MemorySegment s, long offset, long bits) {
        if (t.byteSize() == 4) {
            s.set(ValueLayout.JAVA_INT_UNALIGNED, offset, (int) bits);
        } else {
            s.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, bits);
        }
    }

    /** The value bits as a long: integers as they are, float and double converted. */
    long valueAsLong(long bits) {
        return switch (valueType) {
            case FLOAT -> (long) Float.intBitsToFloat((int) bits);
            case DOUBLE -> (long) Double.longBitsToDouble(bits);
            default -> bits;
        };
    }

    /** The value bits as a double (uint64 read as unsigned). */
    double valueAsDouble(long bits) {
        return switch (valueType) {
            case FLOAT -> Float.intBitsToFloat((int) bits);
            case DOUBLE -> Double.longBitsToDouble(bits);
            case UINT64 -> bits >= 0 ? bits : (double) (bits >>> 1) * 2.0 + (bits & 1);
            default -> bits;
        };
    }

    /** Whether {@code key} is representable as K (int32 keys in int range, uint32 in 0..2^32-1). */
    boolean keyFits(long key) {
        return switch (keyType) {
            case INT32 -> key == (int) key;
            case UINT32 -> (key >>> 32) == 0;
            default -> true;
        };
    }

    /** The hash {@code H} gives the key (its 64-bit result, as size_t). */
    long hash(Hashmap.Hasher hasher, long key) {
        return switch (hasher) {
            case WY -> keyType.byteSize() == 8 ? WyHash.hash64(key) : WyHash.hash32((int) key);
            // libstdc++'s std::hash of an integer is static_cast<size_t>(key): int sign-extends
            case STD -> key;
        };
    }
}
