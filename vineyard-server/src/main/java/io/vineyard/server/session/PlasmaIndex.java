package io.vineyard.server.session;

import java.util.HashMap;
import java.util.Map;

/**
 * A plasma session's names for its blobs: plasma id (the wire's base64 text) to blob id and the
 * plasma size the client gave. Guarded by the daemon's store lock.
 */
public final class PlasmaIndex {
    /** One plasma object: its blob and the {@code plasma_size} it was created with. */
    public record Entry(long blobId, long plasmaSize) {
    }

    private final Map<String, Entry> byPlasmaId = new HashMap<>();

    public Entry get(String plasmaId) {
        return byPlasmaId.get(plasmaId);
    }

    public void put(String plasmaId, Entry e) {
        byPlasmaId.put(plasmaId, e);
    }

    public Entry remove(String plasmaId) {
        return byPlasmaId.remove(plasmaId);
    }

    public int size() {
        return byPlasmaId.size();
    }
}
