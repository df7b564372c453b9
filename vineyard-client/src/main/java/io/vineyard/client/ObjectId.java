package io.vineyard.client;

import io.vineyard.common.ObjectIds;

/**
 * A vineyard object or blob id: an unsigned 64-bit number, printed as vineyard prints it
 * ({@code o%016x}). Blob ids have the top bit set.
 *
 * @param value the id's 64 bits
 */
public record ObjectId(long value) {
    /** The id every empty blob shares. */
    public static final ObjectId EMPTY_BLOB = new ObjectId(ObjectIds.EMPTY_BLOB_ID);

    /** Parses {@code o<hex>} (vineyard's text form) or a decimal unsigned number. */
    public static ObjectId parse(String text) {
        if (!text.isEmpty() && Character.isLetter(text.charAt(0))) {
            return new ObjectId(ObjectIds.parseText(text));
        }
        return new ObjectId(Long.parseUnsignedLong(text));
    }

    /** True for blob ids. */
    public boolean isBlob() {
        return ObjectIds.isBlob(value);
    }

    /** {@code o%016x}. */
    @Override
    public String toString() {
        return ObjectIds.toText(value);
    }
}
