package io.vineyard.common;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * vineyard's 64-bit ids and their text forms.
 *
 * <pre>
 *   bit 63      62 ............ 22   21 ........ 12   11 ....... 0
 *   +--------+--------------------+----------------+-------------+
 *   | blob?  | ms since epoch (41)| instance (10)  | sequence(12)|
 *   +--------+--------------------+----------------+-------------+
 * </pre>
 *
 * Blob ids have bit 63 set, object ids and signatures have it clear. Unlike vineyard's generator,
 * ours never repeats an id inside one daemon: when more than 4096 ids are asked for within one
 * millisecond the time field runs ahead of the clock instead of wrapping the sequence (vineyard's
 * weakness 15).
 */
public final class ObjectIds {
    /** The id every size-0 blob shares. */
    public static final long EMPTY_BLOB_ID = 0x8000000000000000L;
    /** {@code UINT64_MAX}: invalid object id / signature / unspecified instance. */
    public static final long INVALID_ID = -1L;
    private static final long BLOB_BIT = 0x8000000000000000L;
    private static final long PAYLOAD_MASK = 0x7FFFFFFFFFFFFFFFL;

    private final AtomicLong last = new AtomicLong();
    private final long instanceBits;
    private final LongSupplier clockMs;

    public ObjectIds(long instanceId, LongSupplier clockMs) {
        this.instanceBits = (instanceId & 0x3FF) << 12;
        this.clockMs = clockMs;
    }

    /** A fresh object id (bit 63 clear); also used for signatures. */
    public long nextObjectId() {
        long candidate = ((clockMs.getAsLong() & 0x1FFFFFFFFFFL) << 22) | instanceBits;
        long id = last.accumulateAndGet(candidate, (prev, cand) -> {
            if (cand > prev) {
                return cand;
            }
            if ((prev & 0xFFF) == 0xFFF) {
                // the sequence field is used up: move to the next millisecond, keep the instance bits
                return (((prev >>> 22) + 1) << 22) | instanceBits;
            }
            return prev + 1;
        });
        return id & PAYLOAD_MASK;
    }

    /** A fresh blob id (bit 63 set). */
    public long nextBlobId() {
        return nextObjectId() | BLOB_BIT;
    }

    public static boolean isBlob(long id) {
        return id < 0;
    }

    /** {@code o%016x}, vineyard's text form of object and blob ids. */
    public static String toText(long id) {
        return "o" + hex16(id);
    }

    /** {@code s%016x}, the text form of a signature. */
    public static String signatureText(long sig) {
        return "s" + hex16(sig);
    }

    /** {@code S%016x}, the text form of a session id (a session's socket ends with {@code .S<hex>}). */
    public static String sessionText(long session) {
        return "S" + hex16(session);
    }

    private static String hex16(long v) {
        String h = Long.toHexString(v);
        return "0".repeat(16 - h.length()) + h;
    }

    /**
     * Parses {@code o<hex>} / {@code s<hex>} (the first character is skipped, as vineyard does).
     *
     * @throws NumberFormatException when the rest is not 1-16 hex digits
     */
    public static long parseText(String text) {
        if (text.length() < 2 || text.length() > 17) {
            throw new NumberFormatException("not an id: " + text);
        }
        return Long.parseUnsignedLong(text, 1, text.length(), 16);
    }
}
