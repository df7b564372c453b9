package io.vineyard.server.store;

import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;
import io.vineyard.server.memory.BestFitAllocator;
import io.vineyard.server.memory.SharedMemoryPool;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The blob table: allocation, sealing, references and the deferred free.
 *
 * <p>Design note. A blob is visible (in {@link #visible}) from create until delete. Each connection
 * that created, sealed, got or explicitly referenced a blob is one of its holders. Deleting a blob
 * removes it from view at once and drops the deleting connection's own hold; its memory returns to
 * the allocator only when the last holder releases it or disconnects (invariant 2; vineyard frees at
 * once, #1916). A connection's death releases all its holds and deletes the unsealed blobs it
 * created (invariant 3; vineyard leaks them, #2072). {@link #usageBytes()} counts the data bytes of
 * every visible (not deleted) pool blob, and {@link #deferredBytes()} those of deleted blobs whose
 * memory still waits for a holder: a delete lowers usage at once, as vineyard reports it, while the
 * memory is reused only when nobody can see it. Both are exact after any sequence of operations
 * (invariant 5), and a failed allocation changes nothing (#862).
 *
 * <p>Not thread-safe: every method runs under the daemon's store lock.
 */
public final class BlobStore {
    private final SharedMemoryPool pool;
    private final BestFitAllocator allocator;
    private final ObjectIds ids;
    private final Map<Long, Blob> visible = new HashMap<>();
    private long usageBytes;
    private long deferredBytes;
    private int deferredFrees;
    /** Next store key for a disk blob's file: above any fd number, never reused. */
    private int nextDiskKey = FIRST_DISK_KEY;

    /** The first store key given to a disk file (the pool's key is its fd, a small number). */
    public static final int FIRST_DISK_KEY = 1 << 24;

    public BlobStore(SharedMemoryPool pool, ObjectIds ids) {
        this.pool = pool;
        this.allocator = new BestFitAllocator(pool.limit());
        this.ids = ids;
    }

    /** Data bytes of visible (not deleted) pool blobs: vineyard's {@code memory_usage}. */
    public long usageBytes() {
        return usageBytes;
    }

    /** Data bytes of deleted pool blobs whose memory waits for their last holder. */
    public long deferredBytes() {
        return deferredBytes;
    }

    public long limitBytes() {
        return pool.limit();
    }

    /** Deleted blobs whose memory waits for their last holder. */
    public int deferredFrees() {
        return deferredFrees;
    }

    /** The allocator, for status and tests. */
    public BestFitAllocator allocator() {
        return allocator;
    }

    public int storeFd() {
        return pool.fd();
    }

    /**
     * Allocates an unsealed blob for {@code client}; size 0 gives the shared empty blob.
     *
     * @throws VineyardException.NotEnoughMemory when the pool cannot hold it (usage unchanged)
     */
    public Blob create(long size, BlobLinks client) {
        if (size == 0) {
            return emptyBlob();
        }
        long offset = size < 0 ? -1 : allocator.allocate(size);
        if (offset < 0) {
            throw new VineyardException.NotEnoughMemory("Failed to allocate memory of size "
                    + Long.toUnsignedString(size) + ", total available memory size are " + pool.limit()
                    + ", and " + usageBytes + " are already in use (" + deferredBytes
                    + " more deleted but still held by their readers; largest free extent "
                    + allocator.largestFreeExtent() + " bytes)");
        }
        Blob blob = new Blob(ids.nextBlobId(), offset, size, client, -1, -1);
        usageBytes += size;
        hold(blob, client);
        visible.put(blob.id, blob);
        return blob;
    }

    /** Allocates several blobs, all or nothing. */
    public List<Blob> createAll(long[] sizes, BlobLinks client) {
        List<Blob> made = new ArrayList<>(sizes.length);
        try {
            for (long size : sizes) {
                made.add(create(size, client));
            }
        } catch (VineyardException e) {
            for (Blob b : made) {
                if (b.id != ObjectIds.EMPTY_BLOB_ID) {
                    markDeleted(b);
                    unhold(b, client);
                }
            }
            throw e;
        }
        return made;
    }

    /** Registers a disk-backed blob over an open file ({@code create_disk_buffer}). */
    public Blob createDisk(int fd, long size, BlobLinks client) {
        if (nextDiskKey == Integer.MAX_VALUE) {
            throw new VineyardException.Invalid("create_disk_buffer: this daemon has made 2^31 disk blobs, restart it");
        }
        Blob blob = new Blob(ids.nextBlobId(), 0, size, client, fd, nextDiskKey++);
        hold(blob, client);
        visible.put(blob.id, blob);
        return blob;
    }

    /** The shared size-0 blob: readable at once, yet reported unsealed, as vineyard reports it. */
    private static Blob emptyBlob() {
        return new Blob(ObjectIds.EMPTY_BLOB_ID, 0, 0, null, -1, -1);
    }

    /** The visible blob {@code id}, or null. The empty blob always exists. */
    public Blob find(long id) {
        if (id == ObjectIds.EMPTY_BLOB_ID) {
            return emptyBlob();
        }
        return visible.get(id);
    }

    public boolean exists(long id) {
        return id == ObjectIds.EMPTY_BLOB_ID || visible.containsKey(id);
    }

    /** Seals a blob and records the sealing connection as a holder. */
    public void seal(long id, BlobLinks client) {
        if (id == ObjectIds.EMPTY_BLOB_ID) {
            return;
        }
        Blob blob = visible.get(id);
        if (blob == null) {
            throw new VineyardException.ObjectNotExists("seal: id = " + ObjectIds.toText(id));
        }
        blob.sealed = true;
        hold(blob, client);
    }

    /**
     * Resolves blobs for {@code get_buffers}: unknown or deleted ids are skipped, unsealed ones fail
     * unless {@code unsafe}. Every returned blob is held by {@code client}.
     */
    public List<Blob> get(long[] blobIds, boolean unsafe, BlobLinks client) {
        return get(blobIds, unsafe, client, null);
    }

    /**
     * As {@link #get(long[], boolean, BlobLinks)}, and adds to {@code newlyHeld} the returned blobs
     * that {@code client} did not hold before (a transfer releases only those afterwards).
     */
    public List<Blob> get(long[] blobIds, boolean unsafe, BlobLinks client, List<Blob> newlyHeld) {
        List<Blob> out = new ArrayList<>(blobIds.length);
        for (long id : blobIds) {
            Blob blob = find(id);
            if (blob == null) {
                continue;
            }
            if (!blob.sealed && !unsafe && blob.id != ObjectIds.EMPTY_BLOB_ID) {
                throw new VineyardException.ObjectNotSealed("Failed to get blob with id " + ObjectIds.toText(id));
            }
            out.add(blob);
        }
        for (Blob blob : out) {
            if (hold(blob, client) && newlyHeld != null) {
                newlyHeld.add(blob);
            }
        }
        return out;
    }

    /** Adds {@code client} as a holder of every visible blob among {@code blobIds}. */
    public void increaseReferenceCount(long[] blobIds, BlobLinks client) {
        for (long id : blobIds) {
            Blob blob = visible.get(id);
            if (blob != null) {
                hold(blob, client);
            }
        }
    }

    /** Drops {@code client}'s holds on {@code held} without complaint (end of an RPC transfer). */
    public void releaseAll(List<Blob> held, BlobLinks client) {
        for (Blob blob : held) {
            unhold(blob, client);
        }
    }

    /** Seals blobs created by an RPC upload once their bytes have arrived. */
    public void sealAll(List<Blob> made) {
        for (Blob blob : made) {
            blob.sealed = true;
        }
    }

    /** Drops {@code client}'s hold on a blob if it has one; true when it had. */
    public boolean releaseIfHeld(long id, BlobLinks client) {
        Blob blob = visible.get(id);
        if (blob == null) {
            blob = findHeldDeleted(id, client);
        }
        if (blob == null || !blob.holders.contains(client)) {
            return false;
        }
        unhold(blob, client);
        return true;
    }

    /** Drops {@code client}'s hold on a blob. */
    public void release(long id, BlobLinks client) {
        if (id != ObjectIds.EMPTY_BLOB_ID && !releaseIfHeld(id, client)) {
            throw new VineyardException(Status.KEY_ERROR, "DependencyTracker: connection not exist.");
        }
    }

    private static Blob findHeldDeleted(long id, BlobLinks client) {
        for (Blob b : client.links) {
            if (b.id == id) {
                return b;
            }
        }
        return null;
    }

    /**
     * vineyard's {@code is_in_use}: false only for blobs that are candidates for spilling. Without a
     * spill path no blob is ever such a candidate, so every existing blob is in use (as vineyard
     * answers with spilling off).
     */
    public boolean isInUse(long id) {
        return exists(id);
    }

    /** Shrinks an unsealed blob to {@code newSize} (not larger), returning the tail to the pool. */
    public void shrink(long id, long newSize) {
        Blob blob = visible.get(id);
        if (blob == null) {
            throw new VineyardException.ObjectNotExists("shrink: id = " + ObjectIds.toText(id));
        }
        if (blob.sealed) {
            throw new VineyardException(Status.OBJECT_SEALED, "cannot shrink the sealed blob " + ObjectIds.toText(id));
        }
        if (newSize < 0 || newSize > blob.size) {
            throw new VineyardException.Invalid("cannot shrink blob " + ObjectIds.toText(id) + " of "
                    + blob.size + " bytes to " + Long.toUnsignedString(newSize) + " bytes");
        }
        if (newSize == 0 || blob.isDisk()) {
            throw new VineyardException.Invalid("cannot shrink blob " + ObjectIds.toText(id) + " to "
                    + newSize + " bytes: " + (blob.isDisk() ? "it is disk-backed" : "use an empty blob"));
        }
        allocator.shrink(blob.offset, blob.size, newSize);
        usageBytes -= blob.size - newSize;
        blob.size = newSize;
    }

    /**
     * Deletes a blob: removes it from view now and frees it once nobody else holds it.
     *
     * @param by   the deleting connection, whose own hold does not delay the free (may be null)
     * @param trim return the freed pages to the OS (vineyard's {@code memory_trim})
     * @return true when the blob existed
     */
    public boolean delete(long id, BlobLinks by, boolean trim) {
        Blob blob = visible.get(id);
        if (blob == null) {
            return id == ObjectIds.EMPTY_BLOB_ID;
        }
        blob.trimOnFree = trim;
        markDeleted(blob);
        if (by != null) {
            unhold(blob, by);
        }
        freeIfUnheld(blob);
        return true;
    }

    /** Every visible blob (for {@code clear} and listing); copy before deleting while iterating. */
    public Collection<Blob> visibleBlobs() {
        return visible.values();
    }

    /** Releases everything a dead or closed connection held, deleting the unsealed blobs it created. */
    public void disconnect(BlobLinks client) {
        List<Blob> held = new ArrayList<>(client.links);
        for (Blob blob : held) {
            if (!blob.sealed && blob.creator == client) {
                markDeleted(blob);
            }
            unhold(blob, client);
        }
    }

    private void markDeleted(Blob blob) {
        if (!blob.deleted) {
            visible.remove(blob.id);
            blob.deleted = true;
            deferredFrees++;
            if (!blob.isDisk()) {
                usageBytes -= blob.size;
                deferredBytes += blob.size;
            }
        }
    }

    /** Adds a hold; true when {@code client} did not hold {@code blob} before. */
    private boolean hold(Blob blob, BlobLinks client) {
        if (client != null && blob.id != ObjectIds.EMPTY_BLOB_ID && blob.holders.add(client)) {
            client.links.add(blob);
            return true;
        }
        return false;
    }

    private void unhold(Blob blob, BlobLinks client) {
        if (blob.holders.remove(client)) {
            client.links.remove(blob);
            if (blob.isDisk()) {
                client.diskReleased(blob.diskKey);
            }
        }
        freeIfUnheld(blob);
    }

    private void freeIfUnheld(Blob blob) {
        if (blob.deleted && !blob.freed && blob.holders.isEmpty()) {
            deferredFrees--;
            free(blob);
        }
    }

    private void free(Blob blob) {
        blob.freed = true;
        if (blob.isDisk()) {
            Posix.close(blob.diskFd);
            return;
        }
        allocator.free(blob.offset, blob.size);
        deferredBytes -= blob.size;
        if (blob.trimOnFree) {
            pool.trim(blob.offset, BestFitAllocator.roundUp(blob.size));
        }
    }

    /**
     * Returns the physical pages of every free extent to the OS (vineyard's {@code memory_trim}):
     * under the store lock, so that no extent is allocated while its pages are punched out.
     *
     * @return the bytes of the free extents trimmed
     */
    public long trimFree() {
        long[] total = {0};
        allocator.forEachFree((offset, size) -> {
            pool.trim(offset, size);
            total[0] += size;
        });
        return total[0];
    }

    /** Where a blob's bytes are, as a client maps them (the protocol layer turns it into a payload). */
    public BlobLocation location(Blob blob) {
        if (blob.id == ObjectIds.EMPTY_BLOB_ID) {
            return new BlobLocation(blob.id, -1, -1, 0, 0, 0, 0, blob.sealed);
        }
        if (blob.isDisk()) {
            return new BlobLocation(blob.id, blob.diskKey, blob.diskFd, 0, blob.size, blob.size, 0, blob.sealed);
        }
        return new BlobLocation(blob.id, pool.fd(), pool.fd(), blob.offset, blob.size, pool.mapSize(),
                pool.address(blob.offset), blob.sealed);
    }

    /** The daemon's view of a pool blob's bytes (RPC transfers). */
    public java.lang.foreign.MemorySegment bytes(Blob blob) {
        if (blob.isDisk() || blob.size == 0) {
            throw new VineyardException.Invalid("blob " + ObjectIds.toText(blob.id) + " has no pool bytes");
        }
        return pool.segment().asSlice(blob.offset, blob.size);
    }
}
