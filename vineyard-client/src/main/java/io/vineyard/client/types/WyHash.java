package io.vineyard.client.types;

/**
 * vineyard's {@code wy::hash<T>} (thirdparty/wyhash/wyhash.hpp, a C++ wrapper of wyhash with the default
 * secret) for the integer keys of a {@code vineyard::Hashmap}: the {@code int64_t}/{@code uint64_t}
 * specialisations hash with {@code wyhash64(key, secret[0])}; any other {@code T}, so {@code int32_t} and
 * {@code uint32_t}, hashes its 4 bytes with {@code hash_imp::wyhash(data, 4)}. {@code WYHASH_CONDOM} is 1
 * (the multiply keeps only the product) and the 128-bit multiply is exact.
 */
final class WyHash {
    private static final long P0 = 0xa0761d6478bd642fL;
    private static final long P1 = 0xe7037ed1a0b428dbL;
    /** {@code hash_imp()}'s default {@code secret[0]} and {@code secret[1]}. */
    private static final long SECRET0 = 0xa0761d6478bd642fL;
    private static final long SECRET1 = 0xe7037ed1a0b428dbL;

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
}
