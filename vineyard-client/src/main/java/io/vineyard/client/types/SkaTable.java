package io.vineyard.client.types;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A port of the insertion side of {@code ska::detailv3::sherwood_v3_table} as vineyard bundles it
 * ({@code thirdparty/flat_hash_map/flat_hash_map.hpp}): robin-hood open addressing, the prime-number hash
 * policy (vineyard's copy always uses {@code ska::prime_number_hash_policy}, whatever {@code H} says), a
 * maximum load factor of 0.5 and {@code max_lookups = max(4, log2(num_buckets))}. Every step is kept as in
 * the C++ ({@code emplace}, {@code emplace_new_key}, {@code grow}, {@code rehash}, {@code reserve},
 * {@code shrink_to_fit}), including the order in which {@code rehash} re-inserts, so the same keys emplaced
 * in the same order end in the same slots as in vineyard's {@code HashmapBuilder}.
 *
 * <p>Keys and values are kept as longs (see {@link HashmapLayout}); a key long is the key itself or, for
 * keys that are not integers (string views), a handle that {@link Keys} hashes and compares. One table, one
 * thread.
 */
final class SkaTable {
    /** How the table hashes and compares its key longs. */
    interface Keys {
        /** The hash {@code H} gives the key. */
        long hash(long key);

        /** Whether two key longs are the same key ({@code E}). */
        boolean equal(long a, long b);
    }

    /** ska's {@code prime_list} up to what a Java array can index ({@code prime_number_hash_policy::next_size_over}). */
    private static final long[] PRIMES = {
        2L, 3L, 5L, 7L, 11L, 13L, 17L, 23L, 29L, 37L, 47L,
        59L, 73L, 97L, 127L, 151L, 197L, 251L, 313L, 397L,
        499L, 631L, 797L, 1009L, 1259L, 1597L, 2011L, 2539L,
        3203L, 4027L, 5087L, 6421L, 8089L, 10193L, 12853L, 16193L,
        20399L, 25717L, 32401L, 40823L, 51437L, 64811L, 81649L,
        102877L, 129607L, 163307L, 205759L, 259229L, 326617L,
        411527L, 518509L, 653267L, 823117L, 1037059L, 1306601L,
        1646237L, 2074129L, 2613229L, 3292489L, 4148279L, 5226491L,
        6584983L, 8296553L, 10453007L, 13169977L, 16593127L, 20906033L,
        26339969L, 33186281L, 41812097L, 52679969L, 66372617L,
        83624237L, 105359939L, 132745199L, 167248483L, 210719881L,
        265490441L, 334496971L, 421439783L, 530980861L, 668993977L,
        842879579L, 1061961721L, 1337987929L, 1685759167L, 2123923447L,
    };
    /** {@code detailv3::min_lookups}. */
    private static final int MIN_LOOKUPS = 4;
    /** {@code _max_load_factor} (a float 0.5f, exact as a double). */
    private static final double MAX_LOAD_FACTOR = 0.5;

    private final Keys keyOps;

    // sherwood_v3_table's state; the arrays have num_slots_minus_one + max_lookups + 1 entries
    private byte[] distance;
    private long[] keys;
    private long[] values;
    private long numSlotsMinusOne;
    /** The prime of the committed mod function; 0 for {@code mod0} (the empty table). */
    private long prime;
    private int maxLookups;
    private long numElements;

    SkaTable(HashmapLayout layout, Hashmap.Hasher hasher) {
        this(new Keys() {
            @Override
            public long hash(long key) {
                return layout.hash(hasher, key);
            }

            @Override
            public boolean equal(long a, long b) {
                return a == b;
            }
        });
    }

    SkaTable(Keys keyOps) {
        this.keyOps = keyOps;
        resetToEmptyState();
    }

    long size() {
        return numElements;
    }

    long numSlotsMinusOne() {
        return numSlotsMinusOne;
    }

    int maxLookups() {
        return maxLookups;
    }

    /** Entries in the table: num_slots_minus_one + max_lookups + 1 (what {@code HashmapBuilder::Build} copies). */
    int entryCount() {
        return distance.length;
    }

    long bucketCount() {
        return numSlotsMinusOne != 0 ? numSlotsMinusOne + 1 : 0;
    }

    private int indexForHash(long hash) {
        return prime == 0 ? 0 : (int) Long.remainderUnsigned(hash, prime);
    }

    /**
     * {@code emplace(key, value)} followed by assignment, as {@code builder[key] = value}: a new key is
     * placed as ska places it, an existing key gets the new value in its slot.
     *
     * @return the slot the key is in
     */
    int put(long key, long value) {
        int current = indexForHash(keyOps.hash(key));
        int distanceFromDesired = 0;
        for (; distance[current] >= distanceFromDesired; ++current, ++distanceFromDesired) {
            if (keyOps.equal(keys[current], key)) {
                values[current] = value;
                return current;
            }
        }
        return emplaceNewKey(distanceFromDesired, current, key, value);
    }

    private int emplaceNewKey(int distanceFromDesired, int current, long key, long value) {
        if (numSlotsMinusOne == 0 || distanceFromDesired == maxLookups
                || (double) (numElements + 1) > (double) (numSlotsMinusOne + 1) * MAX_LOAD_FACTOR) {
            grow();
            return put(key, value);
        } else if (distance[current] < 0) {
            place(current, distanceFromDesired, key, value);
            ++numElements;
            return current;
        }
        // robin hood: the new key takes this slot, the richer resident moves on
        int toInsertDistance = distance[current];
        long toInsertKey = keys[current];
        long toInsertValue = values[current];
        place(current, distanceFromDesired, key, value);
        int result = current;
        for (++toInsertDistance, ++current;; ++current) {
            if (distance[current] < 0) {
                place(current, toInsertDistance, toInsertKey, toInsertValue);
                ++numElements;
                return result;
            } else if (distance[current] < toInsertDistance) {
                int d = distance[current];
                long k = keys[current];
                long v = values[current];
                place(current, toInsertDistance, toInsertKey, toInsertValue);
                toInsertDistance = d;
                toInsertKey = k;
                toInsertValue = v;
                ++toInsertDistance;
            } else {
                ++toInsertDistance;
                if (toInsertDistance == maxLookups) {
                    // swap(to_insert, result.current->value): the displaced one goes back to the new
                    // key's slot (keeping that slot's distance), the new key is inserted after growing
                    long k = keys[result];
                    long v = values[result];
                    keys[result] = toInsertKey;
                    values[result] = toInsertValue;
                    grow();
                    return put(k, v);
                }
            }
        }
    }

    private void place(int slot, int distanceFromDesired, long key, long value) {
        distance[slot] = (byte) distanceFromDesired;
        keys[slot] = key;
        values[slot] = value;
    }

    private void grow() {
        rehash(Math.max(4L, 2 * bucketCount()));
    }

    /** {@code reserve(n)}: room for {@code n} elements without growing. */
    void reserve(long n) {
        long requiredBuckets = numBucketsForReserve(n);
        if (requiredBuckets > bucketCount()) {
            rehash(requiredBuckets);
        }
    }

    /** {@code shrink_to_fit()}, which {@code HashmapBuilder::Build} calls before copying the entries. */
    void shrinkToFit() {
        rehash(Math.min(numBucketsForReserve(numElements), bucketCount()));
    }

    private static long numBucketsForReserve(long n) {
        return (long) Math.ceil(n / Math.min(0.5, MAX_LOAD_FACTOR));
    }

    private void rehash(long numBuckets) {
        numBuckets = Math.max(numBuckets, (long) Math.ceil(numElements / MAX_LOAD_FACTOR));
        if (numBuckets == 0) {
            resetToEmptyState();
            return;
        }
        long newPrime = nextSizeOver(numBuckets);
        numBuckets = newPrime;
        if (numBuckets == bucketCount()) {
            return;
        }
        int newMaxLookups = computeMaxLookups(numBuckets);
        long newLength = numBuckets + newMaxLookups;
        if (newLength > Integer.MAX_VALUE - 16) {
            throw new VineyardException(Status.INVALID, "Hashmap of more than " + numElements + " entries: too large");
        }
        byte[] oldDistance = distance;
        long[] oldKeys = keys;
        long[] oldValues = values;
        long oldSlotsMinusOne = numSlotsMinusOne;
        int oldMaxLookups = maxLookups;
        allocate((int) newLength);
        numSlotsMinusOne = numBuckets - 1;
        prime = newPrime;
        maxLookups = newMaxLookups;
        numElements = 0;
        // the old table's slots in order, the sentinel excluded
        for (int it = 0, end = (int) (oldSlotsMinusOne + oldMaxLookups); it != end; ++it) {
            if (oldDistance[it] >= 0) {
                put(oldKeys[it], oldValues[it]);
            }
        }
    }

    private void resetToEmptyState() {
        // Entry::empty_default_table(): { {}, {}, {}, {special_end_value} }
        allocate(MIN_LOOKUPS);
        numSlotsMinusOne = 0;
        prime = 0;
        maxLookups = MIN_LOOKUPS - 1;
    }

    private void allocate(int length) {
        distance = new byte[length];
        keys = new long[length];
        values = new long[length];
        Arrays.fill(distance, HashmapLayout.EMPTY);
        distance[length - 1] = HashmapLayout.SPECIAL_END;
    }

    /** {@code next_size_over}: the smallest listed prime not below {@code size}. */
    private static long nextSizeOver(long size) {
        int i = Arrays.binarySearch(PRIMES, size);
        if (i < 0) {
            i = -i - 1;
        }
        if (i >= PRIMES.length) {
            throw new VineyardException(Status.INVALID, "Hashmap of " + size + " buckets: too large");
        }
        return PRIMES[i];
    }

    /** {@code compute_max_lookups}: max(min_lookups, floor(log2(num_buckets))). */
    private static int computeMaxLookups(long numBuckets) {
        return Math.max(MIN_LOOKUPS, 63 - Long.numberOfLeadingZeros(numBuckets));
    }

    /** One entry as it is to be written: the sentinel and empty slots hold no key. */
    interface EntryWriter {
        void write(int slot, byte distance, boolean holds, long key, long value);
    }

    /** Hands every entry, sentinel included, to {@code out} in slot order. */
    void forEachEntry(EntryWriter out) {
        for (int i = 0; i < distance.length; i++) {
            boolean holds = distance[i] >= 0 && i != distance.length - 1;
            out.write(i, distance[i], holds, holds ? keys[i] : 0, holds ? values[i] : 0);
        }
    }

    /** Writes every entry, sentinel included, into {@code entries} ({@code entryCount() * entryBytes} bytes). */
    void writeTo(HashmapLayout layout, MemorySegment entries) {
        forEachEntry((slot, d, holds, key, value) -> layout.write(entries, slot, d, key, value));
    }
}
