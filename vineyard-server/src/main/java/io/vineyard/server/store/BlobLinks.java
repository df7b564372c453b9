package io.vineyard.server.store;

import java.util.HashSet;
import java.util.Set;

/**
 * One connection's holds on blobs: each blob it created, sealed, got or referenced, at most once (as
 * vineyard's dependency tracker counts). {@link BlobStore#disconnect} walks them when the connection ends.
 *
 * <p>Guarded by the store lock.
 */
public final class BlobLinks {
    private final long connectionId;
    final Set<Blob> links = new HashSet<>();
    /** Store keys of disk files this connection stopped holding since {@link #takeReleasedDiskKeys()}. */
    private final Set<Integer> releasedDiskKeys = new HashSet<>();

    public BlobLinks(long connectionId) {
        this.connectionId = connectionId;
    }

    /** Number of blobs held (tests and invariant checks). */
    public int linkCount() {
        return links.size();
    }

    void diskReleased(int key) {
        releasedDiskKeys.add(key);
    }

    /**
     * The disk files this connection no longer holds any blob of: its client may have closed their
     * fds, so a later get must pass them again.
     */
    public Set<Integer> takeReleasedDiskKeys() {
        if (releasedDiskKeys.isEmpty()) {
            return Set.of();
        }
        Set<Integer> out = Set.copyOf(releasedDiskKeys);
        releasedDiskKeys.clear();
        return out;
    }

    @Override
    public String toString() {
        return "connection " + connectionId;
    }
}
