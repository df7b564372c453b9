package io.vineyard.client.stream;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;

/**
 * Reads a stream whose chunks are objects (a {@code DataframeStream}'s DataFrames, a
 * {@code RecordBatchStream}'s RecordBatches, any type the client's registry resolves). Each value is
 * got through the client, zero-copy; the daemon deletes a chunk at the next pull, and its memory is
 * reused once the value got from it is closed.
 *
 * @param <T> the Java type chunks resolve to
 */
public class ObjectStreamReader<T> extends StreamReader implements Iterable<T> {
    private final Class<T> type;

    protected ObjectStreamReader(IpcClient client, ObjectId stream, Class<T> type) {
        super(client, stream);
        this.type = type;
    }

    public static <T> ObjectStreamReader<T> open(IpcClient client, ObjectId stream, Class<T> type) {
        return new ObjectStreamReader<>(client, stream, type);
    }

    /** The chunks as {@code T}s, as {@link #next()} gives them ({@code hasNext()} waits for the writer). */
    @Override
    public java.util.Iterator<T> iterator() {
        return new Chunks<>(this::next);
    }

    /** The chunks as a sequential {@link java.util.stream.Stream}. */
    public java.util.stream.Stream<T> values() {
        return java.util.stream.StreamSupport.stream(spliterator(), false);
    }

    /** The next chunk as a {@code T} (close it when done), or null at the end of the stream. */
    public T next() {
        ObjectId chunk = nextChunk();
        return chunk == null ? null : client.get(chunk, type);
    }
}
