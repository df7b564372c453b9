package io.vineyard.client;

/**
 * One reference to a got object's blobs on the daemon: while any hold is open the daemon keeps the
 * memory. Closing is idempotent and throws nothing.
 */
@FunctionalInterface
public interface Hold extends AutoCloseable {
    /** Drops this reference (the release travels with the client's next request). */
    @Override
    void close();

    /** Closes {@code hold} when it is not null (values built locally have none). */
    static void release(Hold hold) {
        if (hold != null) {
            hold.close();
        }
    }
}
