package io.vineyard.client.types;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Builds a {@link Hashmap} as vineyard's C++ {@code HashmapBuilder<K,V,H>} does: keys are placed by ska's
 * flat_hash_map algorithm as they are put, and {@link #build()} shrinks the table to fit first, as
 * {@code HashmapBuilder::Build} does. The same puts in the same order (and the same {@link #reserve}) give
 * the same entries, byte for byte up to padding, as the C++ builder.
 *
 * <p>Not thread-safe. A builder builds once.
 */
public final class HashmapBuilder {
    private final HashmapLayout layout;
    private final Hashmap.Hasher hasher;
    private final SkaTable table;
    private boolean built;

    HashmapBuilder(DType keyType, DType valueType, Hashmap.Hasher hasher) {
        this.layout = new HashmapLayout(keyType, valueType);
        this.hasher = hasher;
        this.table = new SkaTable(layout, hasher);
    }

    /** Room for {@code n} keys without growing (ska's {@code reserve}; it changes the layout, as in C++). */
    public HashmapBuilder reserve(long n) {
        checkOpen();
        table.reserve(n);
        return this;
    }

    /**
     * Maps {@code key} to {@code value} ({@code builder[key] = value}): a new key is inserted, an existing one
     * gets the new value. Float and double maps store {@code (double) value}.
     *
     * @throws VineyardException if the key or value does not fit the map's types
     */
    public HashmapBuilder put(long key, long value) {
        long bits = switch (layout.valueType) {
            case INT32 -> checked(value == (int) value, value);
            case UINT32 -> checked((value >>> 32) == 0, value);
            case INT64, UINT64 -> value;
            case FLOAT -> Integer.toUnsignedLong(Float.floatToRawIntBits((float) value));
            case DOUBLE -> Double.doubleToRawLongBits(value);
        };
        return putBits(key, bits);
    }

    /**
     * Maps {@code key} to a floating-point value.
     *
     * @throws VineyardException if the map's values are integers
     */
    public HashmapBuilder put(long key, double value) {
        long bits = switch (layout.valueType) {
            case FLOAT -> Integer.toUnsignedLong(Float.floatToRawIntBits((float) value));
            case DOUBLE -> Double.doubleToRawLongBits(value);
            default -> throw new VineyardException(Status.TYPE_ERROR,
                    "put " + value + ": the values of " + layout.typename(hasher) + " are integers");
        };
        return putBits(key, bits);
    }

    private long checked(boolean fits, long value) {
        if (!fits) {
            throw new VineyardException(Status.INVALID, "put: value " + value + " does not fit " + layout.valueType);
        }
        return value;
    }

    private HashmapBuilder putBits(long key, long bits) {
        checkOpen();
        if (!layout.keyFits(key)) {
            throw new VineyardException(Status.INVALID, "put: key " + key + " does not fit " + layout.keyType);
        }
        table.put(key, bits);
        return this;
    }

    /** The number of keys put so far. */
    public long size() {
        return table.size();
    }

    /**
     * Shrinks the table to fit and returns the map, backed by off-heap memory of its own (an automatic
     * arena); putting it copies the entries into one blob.
     */
    public Hashmap build() {
        checkOpen();
        built = true;
        table.shrinkToFit();
        long count = table.entryCount();
        MemorySegment entries = Arena.ofAuto().allocate(count * layout.entryBytes, 8);
        table.writeTo(layout, entries);
        return new Hashmap(layout, hasher, table.numSlotsMinusOne(), table.maxLookups(), table.size(), count, entries,
                null, null);
    }

    private void checkOpen() {
        if (built) {
            throw new IllegalStateException("this HashmapBuilder has built its map already");
        }
    }
}
