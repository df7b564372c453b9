package io.vineyard.client.registry;

import io.vineyard.client.Blob;
import io.vineyard.client.BlobWriter;
import io.vineyard.client.meta.ObjectMeta;

import java.lang.foreign.MemorySegment;

/** What a builder may use while describing a value: blob allocation and nested builds. */
public interface BuildContext {
    /** The daemon instance objects are created on. */
    long instanceId();

    /** A new writable blob (sealed by the put of the object that holds it). */
    BlobWriter createBlob(long sizeBytes);

    /** A blob member holding a copy of {@code data} in a new blob (the empty blob when empty). */
    ObjectMeta blobOf(MemorySegment data);

    /** A blob member referring to a blob already in the daemon (a got value put again): no copy. */
    ObjectMeta blobOf(Blob blob);

    /** Builds a nested value with its registered type; the result is added as a member. */
    ObjectMeta build(Object value);

    /** A builder input given to the put ({@code PutOptions.withBuilderInput}), by type, or null. */
    <O> O option(Class<O> type);
}
