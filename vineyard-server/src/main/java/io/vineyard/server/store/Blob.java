package io.vineyard.server.store;

import java.util.HashSet;
import java.util.Set;

/**
 * One blob: an extent of the pool (or a disk file) and who can see it. Mutable state is guarded by
 * the store lock.
 */
public final class Blob {
    /**
     * Where a pool blob's bytes are. Only RESIDENT and SPILLING blobs have an extent a client may map;
     * SPILLING and LOADING ones have spill I/O in flight outside the store lock.
     *
     * <pre>
     *   RESIDENT --pick as victim--> SPILLING --written--> SPILLED --get/load--> LOADING --read--> RESIDENT
     *       ^                           |  (a get cancels: stays mapped, the file is dropped)
     *       +---------------------------+
     * </pre>
     */
    enum Residence { RESIDENT, SPILLING, SPILLED, LOADING }

    final long id;
    /** Offset of the extent in the pool; -1 while SPILLED. */
    long offset;
    long size;
    final BlobLinks creator;
    /**
     * The store whose accounting (usage, deferred frees, LRU) the blob is in: the one that made it, or
     * the session's store it was moved to ({@code move_buffers_ownership}).
     */
    BlobStore owner;
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
    Residence residence = Residence.RESIDENT;
    /** Spill or reload I/O of this blob runs outside the lock: its extent must stay as it is. */
    boolean ioInFlight;
    /** Kept resident by {@code load} with {@code pin}: never a spill victim until unpinned. */
    boolean pinned;
    /** Never spilled: a queued stream chunk (the stream, not a connection, owns it). */
    boolean keepResident;
    /** Number of the current spill file ({@code o<id>.<n>.spill}): every spill writes a new name. */
    int spillSeq;

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

    /** True while the blob's bytes are in a spill file, not in the pool. */
    public boolean spilled() {
        return residence == Residence.SPILLED || residence == Residence.LOADING;
    }
}
