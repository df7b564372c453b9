package io.vineyard.server.store;

import java.util.HashSet;
import java.util.Set;

/**
 * One blob: an extent of the pool (or a disk file) and who can see it. Mutable state is guarded by
 * the store lock.
 */
public final class Blob {
    final long id;
    final long offset;
    long size;
    final BlobLinks creator;
    /** fd of a disk-backed blob ({@code create_disk_buffer}), or -1 for a pool blob. */
    final int diskFd;
    /**
     * The store key a disk blob's file is named by on the wire ({@code store_fd}, {@code fd}): unique
     * for the daemon's life, so a client never takes a new file for an old one it has mapped (fd
     * numbers are reused by the kernel once a file is closed). -1 for a pool blob.
     */
    final int diskKey;
    boolean sealed;
    /** Deleted: invisible to every request, memory held until the last holder lets go. */
    boolean deleted;
    boolean freed;
    boolean trimOnFree;
    final Set<BlobLinks> holders = new HashSet<>(2);

    Blob(long id, long offset, long size, BlobLinks creator, int diskFd, int diskKey) {
        this.id = id;
        this.offset = offset;
        this.size = size;
        this.creator = creator;
        this.diskFd = diskFd;
        this.diskKey = diskKey;
    }

    public boolean isDisk() {
        return diskFd >= 0;
    }

    public long id() {
        return id;
    }

    public long offset() {
        return offset;
    }

    public long size() {
        return size;
    }

    public boolean sealed() {
        return sealed;
    }
}
