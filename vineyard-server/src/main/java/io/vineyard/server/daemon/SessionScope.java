package io.vineyard.server.daemon;

/**
 * Which session a {@link DaemonContext} serves: vineyard's session id (0 for the root session) and
 * whether its blobs are addressed by plasma ids ({@code bulk_store_type} 2, "Plasma").
 */
public record SessionScope(long id, boolean plasma) {
    /** The root session: id 0, the default store. */
    public static final SessionScope ROOT = new SessionScope(0, false);

    /** vineyard's {@code store_type}/{@code bulk_store_type} number of this session's store (1 default, 2 plasma). */
    public int storeType() {
        return plasma ? 2 : 1;
    }
}
