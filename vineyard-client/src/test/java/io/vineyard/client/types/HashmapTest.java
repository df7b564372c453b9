package io.vineyard.client.types;

import io.vineyard.client.BlobWriter;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.TestDaemon;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code vineyard::Hashmap}: the hash, the placement and the entry layout against values from vineyard's
 * sources and from the layout oracle ({@code src/test/oracle/hashmap_oracle.cc}: ska's flat_hash_map as
 * PyTorch ships it, with vineyard's wy::hash and prime policy), then round trips through a real daemon.
 */
@Tag("both-protocols")   // also run against daemons without extensions (pom: standard-protocol)
class HashmapTest {
    /** One daemon for the class: every test has its own client, and leaves the pool as it found it. */
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    // ---- hash and placement, no daemon needed --------------------------------------------------------

    @Test
    void wyHashMatchesVineyardsWyhash() {
        // hashes printed by the oracle (wy::hash<int64_t> = wyhash64(key, secret[0]); wy::hash<int32_t> hashes 4 bytes)
        assertEquals(0x081c678df97d4024L, WyHash.hash64(0));
        assertEquals(0x7c4d8e358864ee35L, WyHash.hash64(1));
        assertEquals(0x0b1dfab978499956L, WyHash.hash64(-1));
        assertEquals(0x3952e945d6231b4bL, WyHash.hash64(42));
        assertEquals(0x5cd06d5ff573c2f9L, WyHash.hash64(Long.MIN_VALUE));
        assertEquals(0xd9634dc322a8f335L, WyHash.hash64(Long.MAX_VALUE));
        assertEquals(0xc2958626d3f0b923L, WyHash.hash32(0));
        assertEquals(0x46de78f62a0da8e0L, WyHash.hash32(1));
        assertEquals(0xb36312f09cb19eedL, WyHash.hash32(-1));
        assertEquals(0x0e59e53dd7681b66L, WyHash.hash32(7));
        assertEquals(0xc0e078b258e3bb3eL, WyHash.hash32(Integer.MAX_VALUE));
        assertEquals(0x8e2e3066120b797bL, WyHash.hash32(Integer.MIN_VALUE));
        assertEquals(0x96e43e73c70e1288L, WyHash.hash32(101));
    }

    /** Bytes {@code 'a' + (i * 7) % 26}: the oracle's key material for {@code wy::hash<std::string_view>}. */
    private static byte[] oracleBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + (i * 7) % 26);
        }
        return b;
    }

    @Test
    void wyHashOfStringViewsMatchesVineyardsWyhash() {
        // hash_imp::wyhash(data, len) of the oracle's bytes, by length: every branch (0, 1-3, 4-16, 17-48, > 48)
        int[] lengths = {0, 1, 2, 3, 4, 7, 8, 12, 16, 17, 31, 32, 48, 49, 96, 97, 150};
        long[] expected = {0x42bc986dc5eec4d3L, 0x6cf84e5a2465e867L, 0xf84195cedae19a23L, 0x19b10541bc57380dL,
            0x80dd9d076d9405afL, 0x931996d360bf62baL, 0xbf0ee43988bfd1adL, 0xff61969e1c3c5b5cL, 0x49e33c0c01b69992L,
            0x4cb9f27aa705513fL, 0x0a196e415aafaebaL, 0x9a64e850f34da7a4L, 0x27301674fee01756L, 0x358236af1f3a9c69L,
            0xee5a6673e77e27a5L, 0x9846540183373091L, 0xa93a65aef8cd70a6L};
        MemorySegment data = MemorySegment.ofArray(oracleBytes(150));
        for (int i = 0; i < lengths.length; i++) {
            assertEquals(expected[i], WyHash.hashBytes(data, 0, lengths[i]), "length " + lengths[i]);
        }
        // the 4 little-endian bytes of an int hash as wy::hash<int32_t> does
        MemorySegment seven = MemorySegment.ofArray(new byte[] {7, 0, 0, 0});
        assertEquals(WyHash.hash32(7), WyHash.hashBytes(seven, 0, 4));
    }

    @Test
    void stringViewMapFindsEveryKeyAndLaysEntriesOutAsSherwoodV3() {
        String[] keys = new String[500];
        StringBuilder all = new StringBuilder();
        long[] offsets = new long[keys.length + 1];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = "vertex-" + i * 31;
            all.append(keys[i]);
            offsets[i + 1] = all.length();
        }
        MemorySegment data = MemorySegment.ofArray(all.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        long base = 0x7f00_1234_0000L;
        StringViewHashmap.Builder b = StringViewHashmap.builder(data, base).reserve(keys.length);
        for (int i = 0; i < keys.length; i++) {
            b.put(offsets[i], offsets[i + 1] - offsets[i], 1000L + i);
        }
        StringViewHashmap m = b.build(null);
        assertEquals(keys.length, m.size());
        for (int i = 0; i < keys.length; i++) {
            assertEquals(1000L + i, m.getOrDefault(keys[i], -1), keys[i]);
        }
        assertEquals(-1, m.getOrDefault("vertex-1", -1));
        assertEquals(-1, m.getOrDefault("", -1));
        // every held entry: (dist, length at 8, pointer at 16 = base + offset of its key, value at 24)
        int held = 0;
        for (long slot = 0; slot < m.entryCount - 1; slot++) {
            long at = slot * 32;
            if (m.entries().get(ValueLayout.JAVA_BYTE, at) < 0) {
                continue;
            }
            held++;
            int i = (int) (m.entries().get(ValueLayout.JAVA_LONG_UNALIGNED, at + 24) - 1000);
            assertEquals(offsets[i + 1] - offsets[i], m.entries().get(ValueLayout.JAVA_LONG_UNALIGNED, at + 8));
            assertEquals(base + offsets[i], m.entries().get(ValueLayout.JAVA_LONG_UNALIGNED, at + 16));
            long home = Long.remainderUnsigned(WyHash.hashBytes(data, offsets[i], offsets[i + 1] - offsets[i]), m.numSlotsMinusOne + 1);
            assertEquals(slot - home, m.entries().get(ValueLayout.JAVA_BYTE, at), "distance of " + keys[i]);
        }
        assertEquals(keys.length, held);
        assertEquals("vineyard::Hashmap<std::basic_string_view<char,std::char_traits<char>>,uint64,"
                + "wy::hash<std::basic_string_view<char,std::char_traits<char>>>,"
                + "std::equal_to<std::basic_string_view<char,std::char_traits<char>>>>", StringViewHashmap.TYPENAME);
    }

    @Test
    void typenamesAsVineyardSpellsThem() {
        Hashmap m = Hashmap.builder(DType.INT64, DType.UINT64).build();
        assertEquals("vineyard::Hashmap<int64,uint64,wy::hash<int64>,std::equal_to<int64>>", m.typename());
        assertEquals("vineyard::Array<ska::detailv3::sherwood_v3_entry<std::pair<int64,uint64>>>", m.layout().entriesTypename());
        Hashmap s = Hashmap.builder(DType.INT32, DType.DOUBLE, Hashmap.Hasher.STD).build();
        assertEquals("vineyard::Hashmap<int,double,std::hash<int>,std::equal_to<int>>", s.typename());
        Hashmap u = Hashmap.builder(DType.UINT32, DType.INT32).build();
        assertEquals("vineyard::Hashmap<uint,int,wy::hash<uint>,std::equal_to<uint>>", u.typename());
    }

    @Test
    void entryLayoutIsSherwoodV3Entry() {
        // sizeof / offsetof printed by the oracle for sherwood_v3_entry<std::pair<K,V>>
        assertLayout(DType.INT64, DType.INT64, 24, 8, 16);
        assertLayout(DType.INT32, DType.INT32, 12, 4, 8);
        assertLayout(DType.INT32, DType.DOUBLE, 24, 8, 16);
        assertLayout(DType.UINT64, DType.UINT64, 24, 8, 16);
        // pair<int64_t,int32_t>: value right after the key, pair padded to 16; pair<int32_t,float>: 8
        assertLayout(DType.INT64, DType.INT32, 24, 8, 16);
        assertLayout(DType.INT32, DType.FLOAT, 12, 4, 8);
    }

    private static void assertLayout(DType k, DType v, int entryBytes, int keyOffset, int valueOffset) {
        HashmapLayout l = new HashmapLayout(k, v);
        assertEquals(entryBytes, l.entryBytes, k + "," + v);
        assertEquals(keyOffset, l.keyOffset, k + "," + v);
        assertEquals(valueOffset, l.valueOffset, k + "," + v);
    }

    @Test
    void threeKeysLandInTheirHomeSlots() {
        // 3 keys: Build's shrink_to_fit rehashes to ceil(3 / 0.5) = 6 buckets, next prime 7, so
        // num_slots_minus_one_ 6 and max_lookups_ max(4, floor(log2 7)) = 4; 7 + 4 entries, the last the sentinel.
        // Homes: wyhash(1) % 7 = 0x7c4d8e358864ee35 % 7 = 2, wyhash(2) % 7 = 0xcc06850f4734d320 % 7 = 1,
        // wyhash(3) % 7 = 0xbb3de298c934bb1d % 7 = 4: no collision, every distance 0.
        Hashmap m = Hashmap.builder(DType.INT64, DType.INT64).put(1, 4).put(2, 7).put(3, 10).build();
        assertEquals(6, m.numSlotsMinusOne());
        assertEquals(4, m.maxLookups());
        assertEquals(11, m.entryCount());
        assertEquals(11 * 24, m.entries().byteSize());
        byte[] distances = new byte[11];
        for (int i = 0; i < 11; i++) {
            distances[i] = m.entries().get(ValueLayout.JAVA_BYTE, i * 24L);
        }
        assertArrayEquals(new byte[] {-1, 0, 0, -1, 0, -1, -1, -1, -1, -1, 0}, distances);
        assertEquals(1, m.entries().get(ValueLayout.JAVA_LONG_UNALIGNED, 2 * 24 + 8));
        assertEquals(4, m.entries().get(ValueLayout.JAVA_LONG_UNALIGNED, 2 * 24 + 16));
        assertEquals(2, m.entries().get(ValueLayout.JAVA_LONG_UNALIGNED, 24 + 8));
        assertEquals(3, m.entries().get(ValueLayout.JAVA_LONG_UNALIGNED, 4 * 24 + 8));
        assertEquals(2, m.slotOf(1));
        assertEquals(1, m.slotOf(2));
        assertEquals(4, m.slotOf(3));
        assertEquals(-1, m.slotOf(4));
        assertEquals(7, m.getLong(2));
    }

    @Test
    void emptyMapIsSkasDefaultTable() {
        // shrink_to_fit of an empty table resets it: empty_default_table() = 3 empty entries and the sentinel,
        // num_slots_minus_one 0, max_lookups min_lookups - 1 = 3; HashmapBuilder::Build copies 0 + 3 + 1 entries
        Hashmap m = Hashmap.builder(DType.INT64, DType.UINT64).build();
        assertEquals(0, m.numSlotsMinusOne());
        assertEquals(3, m.maxLookups());
        assertEquals(4, m.entryCount());
        assertEquals(-1, m.entries().get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(-1, m.entries().get(ValueLayout.JAVA_BYTE, 48));
        assertEquals(0, m.entries().get(ValueLayout.JAVA_BYTE, 72));
        assertFalse(m.containsKey(0));
        assertFalse(m.cursor().next());
        assertEquals(0x994e9f653e28cbfcL, checksum(m));
    }

    @Test
    void layoutMatchesTheOracleByteForByte() {
        // "i64 i64 seq 1000": keys 0..999, value 3i+1
        Hashmap seq = Hashmap.of(sequence(1000));
        assertOracle(seq, 2010, 10, 2021, 0x46851b089532cbb6L);
        // the same with reserve(1000) first: same size, other insertion history, other layout (as in C++)
        HashmapBuilder reserved = Hashmap.builder(DType.INT64, DType.INT64).reserve(1000);
        sequence(1000).forEach(reserved::put);
        assertOracle(reserved.build(), 2010, 10, 2021, 0x765b9011bf32abeaL);
        // "i32 i32 seq 100"
        HashmapBuilder small = Hashmap.builder(DType.INT32, DType.INT32);
        sequence(100).forEach(small::put);
        assertOracle(small.build(), 250, 7, 258, 0x84f947ec1ebf8f84L);
        // random keys from splitmix64(seed), value = index: growth, robin-hood swaps, rehash order
        assertOracle(random(DType.UINT64, DType.UINT64, 100_000, 42), 205758, 17, 205776, 0xc1bcfadd740bd9e1L);
        assertOracle(random(DType.INT64, DType.UINT64, 100_000, 1), 205758, 17, 205776, 0xa068a8ae3b6aeedbL);
        assertOracle(random(DType.INT32, DType.DOUBLE, 5000, 7), 10192, 13, 10206, 0xb151fc41fc7c2a05L);
        assertOracle(random(DType.UINT32, DType.INT32, 3000, 9), 6420, 12, 6433, 0x857af316085fd09fL);
    }

    @Test
    void robinHoodRunIntoMaxLookupsGrowsLikeSka() {
        // std::hash (identity) steers homes. reserve(50): 100 buckets, prime 127, max_lookups 6. Key 0 sits in
        // slot 0; 1, 39752, 79503, 119254, 159005, 198756 (1 + 127 * 313 * j) all have home 1 and fill slots 1..6
        // at distances 0..5. Key 127 (home 0) takes slot 1 at distance 1 and pushes key 1 down the run of
        // poorer keys until its distance reaches max_lookups: ska swaps key 1 back into slot 1, grows to
        // rehash(254) = 313 slots (251 < 254 < 313 in ska's prime list), re-inserts in slot order, then inserts
        // 127. The cluster keys share home 1 mod 313 too, so key 1 is first of the run only if it was
        // re-inserted first. 119 more keys make 127, whose shrink_to_fit target, ceil(127 / 0.5) = 254, is 313
        // again: Build keeps this table as it is.
        long[] keys = new long[127];
        long[] head = {0, 1, 39752, 79503, 119254, 159005, 198756, 127};
        System.arraycopy(head, 0, keys, 0, head.length);
        for (int i = head.length; i < keys.length; i++) {
            keys[i] = 1000 + i - head.length;
        }
        HashmapBuilder b = Hashmap.builder(DType.INT64, DType.INT64, Hashmap.Hasher.STD).reserve(50);
        for (int i = 0; i < keys.length; i++) {
            b.put(keys[i], 3L * i + 1);
        }
        Hashmap m = b.build();
        assertOracle(m, 312, 8, 321, 0xec806603482cd8bdL);
        long[] slots = {0, 1, 2, 3, 4, 5, 6, 127};
        for (int i = 0; i < head.length; i++) {
            assertEquals(slots[i], m.slotOf(keys[i]), "key " + keys[i]);
        }
    }

    private static void assertOracle(Hashmap m, long numSlotsMinusOne, int maxLookups, long entries, long checksum) {
        assertEquals(numSlotsMinusOne, m.numSlotsMinusOne(), m.toString());
        assertEquals(maxLookups, m.maxLookups(), m.toString());
        assertEquals(entries, m.entryCount(), m.toString());
        assertEquals(checksum, checksum(m), m.toString());
    }

    /** The oracle's checksum: FNV-1a 64 over each entry's distance byte, and its key and value bytes if it holds one. */
    private static long checksum(Hashmap m) {
        MemorySegment e = m.entries();
        HashmapLayout l = m.layout();
        long h = 0xcbf29ce484222325L;
        for (long i = 0; i < m.entryCount(); i++) {
            long base = i * l.entryBytes;
            byte d = e.get(ValueLayout.JAVA_BYTE, base);
            h = fnv(h, e.asSlice(base, 1));
            if (d >= 0 && i != m.entryCount() - 1) {
                h = fnv(h, e.asSlice(base + l.keyOffset, l.keyType.byteSize()));
                h = fnv(h, e.asSlice(base + l.valueOffset, l.valueType.byteSize()));
            }
        }
        return h;
    }

    private static long fnv(long h, MemorySegment bytes) {
        for (long i = 0; i < bytes.byteSize(); i++) {
            h = (h ^ (bytes.get(ValueLayout.JAVA_BYTE, i) & 0xff)) * 0x100000001b3L;
        }
        return h;
    }

    private static Map<Long, Long> sequence(int n) {
        Map<Long, Long> m = new LinkedHashMap<>();
        for (long i = 0; i < n; i++) {
            m.put(i, 3 * i + 1);
        }
        return m;
    }

    /** The oracle's "rand" keys: splitmix64 from {@code seed}, cast to K; value = index, cast to V. */
    private static Hashmap random(DType k, DType v, int n, long seed) {
        HashmapBuilder b = Hashmap.builder(k, v);
        long[] state = {seed};
        for (int i = 0; i < n; i++) {
            long key = splitmix64(state);
            key = switch (k) {
                case INT32 -> (int) key;
                case UINT32 -> key & 0xffffffffL;
                default -> key;
            };
            if (v == DType.DOUBLE) {
                b.put(key, (double) i);
            } else {
                b.put(key, i);
            }
        }
        return b.build();
    }

    private static long splitmix64(long[] state) {
        long z = (state[0] += 0x9e3779b97f4a7c15L);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Test
    void builderRules() {
        HashmapBuilder b = Hashmap.builder(DType.INT32, DType.INT64);
        assertThrows(VineyardException.class, () -> b.put(1L << 31, 1), "int32 key out of range");
        assertThrows(VineyardException.class, () -> b.put(1, 0.5), "double value for an integer map");
        assertThrows(VineyardException.class, () -> Hashmap.builder(DType.DOUBLE, DType.INT64));
        b.put(-5, 1).put(-5, 2).put(6, 3);
        assertEquals(2, b.size(), "a second put of a key replaces its value");
        Hashmap m = b.build();
        assertThrows(IllegalStateException.class, () -> b.put(7, 1));
        assertEquals(2, m.getLong(-5));
        assertEquals(3, m.getOrDefault(6, -1));
        assertEquals(-1, m.getOrDefault(7, -1));
        assertThrows(NoSuchElementException.class, () -> m.getLong(7));
        assertFalse(m.containsKey(1L << 40), "a key that cannot be an int32 is absent");
        assertEquals(Map.of(-5L, 2L, 6L, 3L), m.toMap());
        Hashmap u = Hashmap.builder(DType.UINT32, DType.UINT64).put(0xffffffffL, -1L).build();
        assertEquals(-1L, u.getLong(0xffffffffL));
        assertEquals(18446744073709551615.0, u.getDouble(0xffffffffL), "uint64 values read as unsigned");
        assertThrows(VineyardException.class, () -> Hashmap.builder(DType.UINT32, DType.INT32).put(-1, 0));
    }

    // ---- through the daemon ---------------------------------------------------------------------------

    /**
     * Entries as vineyard's C++ {@code HashmapBuilder<int32_t, double>} leaves them for keys 100..107 (value
     * 3i+1): the oracle's raw bytes, uninitialised padding included (see the 4 bytes after key 101). Slots
     * 1..6 hold a run of displaced keys; key 101 sits at distance 2.
     */
    private static final String CPP_INT_DOUBLE_ENTRIES = "ff000000000000000000000000000000000000000000000000000000000000006400000000000000000000000000f03f"
            + "00000000000000006900000000000000000000000000304001000000000000006b000000000000000000000000003640"
            + "020000000000000066000000000000000000000000001c40020000000000000068000000000000000000000000002a40"
            + "020000000000000065000000fd7f00000000000000001040ff0000000000000000000000000000000000000000000000"
            + "ff0000000000000000000000000000000000000000000000000000000000000067000000000000000000000000002440"
            + "01000000000000006a000000000000000000000000003340ff0000000000000000000000000000000000000000000000"
            + "ff0000000000000000000000000000000000000000000000ff0000000000000000000000000000000000000000000000"
            + "ff0000000000000000000000000000000000000000000000ff0000000000000000000000000000000000000000000000"
            + "ff0000000000000000000000000000000000000000000000ff0000000000000000000000000000000000000000000000"
            + "ff0000000000000000000000000000000000000000000000ff0000000000000000000000000000000000000000000000"
            + "000000000000000000000000000000000000000000000000";

    @Test
    void readsAMapTheCppBuilderWrote() {
        byte[] bytes = HexFormat.of().parseHex(CPP_INT_DOUBLE_ENTRIES);
        assertEquals(21 * 24, bytes.length);
        BlobWriter w = vineyard.client().createBlob(bytes.length);
        w.segment().copyFrom(MemorySegment.ofArray(bytes));
        // the metadata HashmapBaseBuilder::_Seal writes for Hashmap<int32_t, double>
        ObjectMeta entries = new ObjectMeta("vineyard::Array<ska::detailv3::sherwood_v3_entry<std::pair<int,double>>>");
        entries.addMember("buffer_", w.asMember());
        entries.put("size_", 21L).put("nbytes", (long) bytes.length);
        ObjectMeta m = new ObjectMeta("vineyard::Hashmap<int,double,wy::hash<int>,std::equal_to<int>>");
        m.put("num_slots_minus_one_", 16L).put("max_lookups_", 4L).put("num_elements_", 8L);
        m.addMember("entries_", entries);
        m.put("data_buffer_", 0L);
        m.addMember("data_buffer_mapped_", vineyard.client().createBlob(0).asMember());
        m.put("nbytes", (long) bytes.length);
        ObjectId id = vineyard.client().putMeta(m, false, null).id();

        long[] slots = {1, 6, 4, 9, 5, 2, 10, 3};  // where the oracle's find() put keys 100..107
        try (Hashmap got = vineyard.client().get(id, Hashmap.class)) {
            assertEquals(8, got.size());
            assertEquals(DType.INT32, got.keyType());
            assertEquals(DType.DOUBLE, got.valueType());
            for (int i = 0; i < 8; i++) {
                assertEquals(slots[i], got.slotOf(100 + i), "key " + (100 + i));
                assertEquals(3.0 * i + 1, got.getDouble(100 + i));
            }
            assertFalse(got.containsKey(99));
            assertFalse(got.containsKey(108));
            int seen = 0;
            for (Hashmap.Cursor c = got.cursor(); c.next(); seen++) {
                assertEquals(3.0 * (c.key() - 100) + 1, c.doubleValue());
            }
            assertEquals(8, seen);
            assertTrue(vineyard.client().isInSharedMemory(got.entries().address(), got.entries().byteSize()), "no copy");
            // our builder, fed the same keys in the same order, writes the same entries (padding aside)
            HashmapBuilder b = Hashmap.builder(DType.INT32, DType.DOUBLE);
            for (int i = 0; i < 8; i++) {
                b.put(100 + i, 3.0 * i + 1);
            }
            Hashmap ours = b.build();
            assertEquals(0x727ad77e4d981b87L, checksum(ours));
            assertEquals(checksum(ours), checksum(got));
        }
        vineyard.client().delete(id);
    }

    @Test
    void hundredThousandEntriesRoundTripInAFreshClient() throws Exception {
        int n = 100_000;
        SplittableRandom rnd = new SplittableRandom(5);
        Map<Long, Long> source = new LinkedHashMap<>();
        while (source.size() < n) {
            source.put(rnd.nextLong(), rnd.nextLong() & Long.MAX_VALUE);
        }
        HashmapBuilder b = Hashmap.builder(DType.INT64, DType.UINT64);
        source.forEach(b::put);
        ObjectId id = vineyard.client().put(b.build());

        ObjectMeta meta = vineyard.client().getMeta(id);
        assertEquals("vineyard::Hashmap<int64,uint64,wy::hash<int64>,std::equal_to<int64>>", meta.typename());
        // 100000 keys: shrink to 200000 buckets, prime 205759; max_lookups floor(log2 205759) = 17
        assertEquals(205758, meta.getLong("num_slots_minus_one_"));
        assertEquals(17, meta.getLong("max_lookups_"));
        assertEquals(n, meta.getLong("num_elements_"));
        assertEquals(0, meta.getLong("data_buffer_"));
        ObjectMeta entries = meta.member("entries_");
        assertEquals("vineyard::Array<ska::detailv3::sherwood_v3_entry<std::pair<int64,uint64>>>", entries.typename());
        assertEquals(205758 + 17 + 1, entries.getLong("size_"));
        assertEquals(205776L * 24, entries.nbytes());
        assertEquals(205776L * 24, meta.nbytes());
        assertTrue(meta.member("data_buffer_mapped_").isBlob());
        assertEquals(ObjectId.EMPTY_BLOB, meta.member("data_buffer_mapped_").id());

        try (IpcClient fresh = IpcClient.connect(vineyard.daemon().socket()); Hashmap got = fresh.get(id, Hashmap.class)) {
            assertEquals(n, got.size());
            assertTrue(got.entries().isReadOnly());
            assertTrue(fresh.isInSharedMemory(got.entries().address(), got.entries().byteSize()),
                    "the entries are viewed in the pool, not copied");
            for (Map.Entry<Long, Long> e : source.entrySet()) {
                assertEquals(e.getValue().longValue(), got.getLong(e.getKey()), "key " + e.getKey());
            }
            int absent = 0;
            while (absent < 1000) {
                long k = rnd.nextLong();
                if (!source.containsKey(k)) {
                    assertFalse(got.containsKey(k), "absent key " + k);
                    absent++;
                }
            }
            Map<Long, Long> back = new HashMap<>(got.toMap());
            assertEquals(source, back);
        }
        vineyard.client().delete(id);
    }

    @Test
    void emptyMapRoundTrips() {
        ObjectId id = vineyard.client().put(Hashmap.of(Map.of()));
        ObjectMeta meta = vineyard.client().getMeta(id);
        assertEquals(0, meta.getLong("num_slots_minus_one_"));
        assertEquals(3, meta.getLong("max_lookups_"));
        assertEquals(4, meta.member("entries_").getLong("size_"));
        try (Hashmap got = vineyard.client().get(id, Hashmap.class)) {
            assertTrue(got.isEmpty());
            assertFalse(got.containsKey(0));
            assertFalse(got.cursor().next());
        }
        vineyard.client().delete(id);
    }

    @Test
    void aGotMapPutAgainSharesItsBlob() {
        ObjectId id = vineyard.client().put(Hashmap.of(sequence(10)));
        ObjectId again;
        try (Hashmap got = vineyard.client().get(id, Hashmap.class)) {
            long before = vineyard.client().status().memoryUsage();
            again = vineyard.client().put(got);
            assertEquals(before, vineyard.client().status().memoryUsage(), "no new blob");
            assertEquals(vineyard.client().getMeta(id).member("entries_").member("buffer_").id(),
                    vineyard.client().getMeta(again).member("entries_").member("buffer_").id());
            try (Hashmap second = vineyard.client().get(again, Hashmap.class)) {
                assertEquals(7, second.getLong(2));
            }
        }
        vineyard.client().delete(again, id);
    }

    @Test
    void refusesWhatItCannotRead() {
        BlobWriter w = vineyard.client().createBlob(4 * 24);
        ObjectMeta entries = new ObjectMeta("vineyard::Array<ska::detailv3::sherwood_v3_entry<std::pair<int64,int64>>>");
        entries.addMember("buffer_", w.asMember());
        entries.put("size_", 4L).put("nbytes", 96L);
        ObjectMeta city = new ObjectMeta("vineyard::Hashmap<int64,int64,city::hash<int64>,std::equal_to<int64>>");
        city.put("num_slots_minus_one_", 0L).put("max_lookups_", 3L).put("num_elements_", 0L).put("data_buffer_", 0L);
        city.addMember("entries_", entries);
        city.addMember("data_buffer_mapped_", vineyard.client().createBlob(0).asMember());
        ObjectId cityId = vineyard.client().putMeta(city, false, null).id();
        assertThrows(VineyardException.NotImplemented.class, () -> vineyard.client().get(cityId, Hashmap.class));

        // entries too short for num_slots_minus_one_ + max_lookups_ + 1
        ObjectMeta bad = new ObjectMeta("vineyard::Hashmap<int64,int64,wy::hash<int64>,std::equal_to<int64>>");
        bad.put("num_slots_minus_one_", 6L).put("max_lookups_", 4L).put("num_elements_", 3L).put("data_buffer_", 0L);
        bad.addMember("entries_", vineyard.client().getMeta(cityId).member("entries_"));
        bad.addMember("data_buffer_mapped_", vineyard.client().createBlob(0).asMember());
        ObjectId badId = vineyard.client().putMeta(bad, false, null).id();
        assertThrows(VineyardException.class, () -> vineyard.client().get(badId, Hashmap.class));
        vineyard.client().delete(badId, cityId);
    }
}
