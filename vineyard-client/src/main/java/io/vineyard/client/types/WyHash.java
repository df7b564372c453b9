package io.vineyard.client.types;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * vineyard's {@code wy::hash<T>} (thirdparty/wyhash/wyhash.hpp, a C++ wrapper of wyhash with the default
 * secret) for the integer keys of a {@code vineyard::Hashmap}: the {@code int64_t}/{@code uint64_t}
 * specialisations hash with {@code wyhash64(key, secret[0])}; any other {@code T}, so {@code int32_t} and
 * {@code uint32_t}, hashes its 4 bytes with {@code hash_imp::wyhash(data, 4)}. {@code WYHASH_CONDOM} is 1
 * (the multiply keeps only the product) and the 128-bit multiply is exact.
 */
final class WyHash {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final long P0 = 0xa0761d6478bd642fL;
    private static final long P1 = 0xe7037ed1a0b428dbL;
    /** {@code hash_imp()}'s default {@code secret[0]} and {@code secret[1]}. */
    private static final long SECRET0 = 0xa0761d6478bd642fL;
    private static final long SECRET1 = 0xe7037ed1a0b428dbL;
    /** {@code secret[2]} and {@code secret[3]}, used by keys longer than 48 bytes. */
    private static final long SECRET2 = 0x8ebc6af09c88c6e3L;
    private static final long SECRET3 = 0x589965cc75374cc3L;

    private WyHash() {
    }

    /** {@code _wymix}: the low and high halves of the 128-bit product, xored. */
    static long mix(long a, long b) {
        return (a * b) ^ Math.unsignedMultiplyHigh(a, b);
    }

    /** {@code wy::hash<int64_t>} and {@code wy::hash<uint64_t>}: {@code wyhash64(key, secret[0])}. */
    static long hash64(long key) {
        long a = key ^ P0;
        long b = SECRET0 ^ P1;
        long lo = a * b;
        long hi = Math.unsignedMultiplyHigh(a, b);
        return mix(lo ^ P0, hi ^ P1);
    }

    /** {@code wy::hash<int32_t>} and {@code wy::hash<uint32_t>}: {@code hash_imp::wyhash(&key, 4)}. */
    static long hash32(int key) {
        long x = Integer.toUnsignedLong(key);
        // len = 4: a = r4(p) << 32 | r4(p + 0), b = r4(p + len - 4) << 32 | r4(p + len - 4 - 0)
        long a = (x << 32) | x;
        long b = a;
        return mix(SECRET1 ^ 4, mix(a ^ SECRET1, b ^ SECRET0));
    }

    /**
     * {@code hash_imp::wyhash(data, len)} (seed {@code secret[0]}): {@code wy::hash<std::string_view>} of the
     * {@code len} bytes at {@code offset} of {@code s}, little-endian reads.
     */
    static long hashBytes(MemorySegment s, long offset, long len) {
        long seed = SECRET0;
        long a;
        long b;
        long p = offset;
        if (len <= 16) {
            if (len >= 4) {
                long step = (len >>> 3) << 2;
                a = (r4(s, p) << 32) | r4(s, p + step);
                b = (r4(s, p + len - 4) << 32) | r4(s, p + len - 4 - step);
            } else if (len > 0) {
                a = (u8(s, p) << 16) | (u8(s, p + (len >>> 1)) << 8) | u8(s, p + len - 1);
                b = 0;
            } else {
                a = 0;
                b = 0;
            }
        } else {
            long i = len;
            if (i > 48) {
                long see1 = seed;
                long see2 = seed;
                do {
                    seed = mix(s.get(LONG, p) ^ SECRET1, s.get(LONG, p + 8) ^ seed);
                    see1 = mix(s.get(LONG, p + 16) ^ SECRET2, s.get(LONG, p + 24) ^ see1);
                    see2 = mix(s.get(LONG, p + 32) ^ SECRET3, s.get(LONG, p + 40) ^ see2);
                    p += 48;
                    i -= 48;
                } while (i > 48);
                seed ^= see1 ^ see2;
            }
            while (i > 16) {
                seed = mix(s.get(LONG, p) ^ SECRET1, s.get(LONG, p + 8) ^ seed);
                i -= 16;
                p += 16;
            }
            a = s.get(LONG, p + i - 16);
            b = s.get(LONG, p + i - 8);
        }
        return mix(SECRET1 ^ len, mix(a ^ SECRET1, b ^ seed));
    }

    private static long r4(MemorySegment s, long at) {
        return Integer.toUnsignedLong(s.get(INT, at));
    }

    private static long u8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }
}
