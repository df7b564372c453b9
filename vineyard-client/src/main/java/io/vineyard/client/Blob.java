package io.vineyard.client;

import java.lang.foreign.MemorySegment;

/**
 * A sealed blob's bytes: a read-only {@link MemorySegment} over the client's mapping of the daemon's
 * pool (IPC, no copy) or over a local copy (RPC). A view used after its client (or, for a blob got on
 * its own, after {@link #close()}) was closed fails with {@link IllegalStateException}; it never reads
 * unmapped memory.
 */
public final class Blob implements AutoCloseable {
    private final ObjectId id;
    private final MemorySegment segment;
    private final Hold hold;

    Blob(ObjectId id, MemorySegment segment, Hold hold) {
        this.id = id;
        this.segment = segment.isReadOnly() ? segment : segment.asReadOnly();
        this.hold = hold;
    }

    /** The blob's id. */
    public ObjectId id() {
        return id;
    }

    /** The size in bytes. */
    public long size() {
        return segment.byteSize();
    }

    /** The bytes, read-only. */
    public MemorySegment segment() {
        return segment;
    }

    /** Copies the bytes to a new array (blobs up to 2 GiB). */
    public byte[] toByteArray() {
        return segment.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    /**
     * Drops this view's hold on the daemon's blob when it was got on its own ({@code get(id, Blob.class)});
     * a blob that is part of a larger object is released with that object.
     */
    @Override
    public void close() {
        Hold.release(hold);
    }

    @Override
    public String toString() {
        return "Blob[" + id + ", " + size() + " bytes]";
    }
}
