package io.vineyard.server.store;

import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;
import io.vineyard.server.memory.BestFitAllocator;
import io.vineyard.server.memory.SharedMemoryPool;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
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
 * <p>Spilling. Sealed pool blobs that no connection holds, not pinned and not stream chunks, form
 * the LRU ({@link #cold}, oldest first; a release puts a blob at the young end). The store only
 * changes states ({@link Blob.Residence}); the {@code Spiller} does the file I/O outside the lock
 * between a {@code pick}/{@code start} step and its {@code done} step, and an extent with I/O in
 * flight is never freed or reused. A spilled blob's bytes count in {@link #spilledBytes()}, not in
 * usage. A get of a spilled blob fails with {@link NotResident} before changing anything, so that the
 * caller reloads it outside the lock and tries again.
 *
 * <p>Returning memory to the OS. A freed extent of at least {@link #PUNCH_MIN_BYTES} (or any with
 * {@code memory_trim}; a spilled one is kept for the allocation that needed the room) has its whole
 * pages punched out of the memfd, except,
 * for a plain delete, the pages in the pool's warm part ({@link SharedMemoryPool#release}). With
 * {@link #punchOutsideLock(boolean)} the punch runs after the lock is released
 * ({@link #takePostLockWork()}) and the extent reaches the allocator only afterwards. With a dirty
 * decay ({@link #dirtyDecay}, the daemon's {@code --dirty_decay_ms}) a plain delete's pages beyond the
 * warm part stay resident and the extent is free at once; {@link #punchDecayed()} punches those still
 * free once idle for the decay, so a delete returns its memory then, not at once.
 *
 * <p>Not thread-safe: every method runs under the daemon's store lock.
 */
public final class BlobStore {
    private final SharedMemoryPool pool;
    private final BestFitAllocator allocator;
    private final ObjectIds ids;
    /** The most data bytes this store may have in the pool: the pool's limit, or a session's limit. */
    private final long quotaBytes;
    /** What a {@code NotEnoughMemory} of the quota names, e.g. {@code session S0123...}; null for the root store. */
    private final String quotaOwner;
    private final Map<Long, Blob> visible = new HashMap<>();
    private long usageBytes;
    private long deferredBytes;
    private int deferredFrees;
    /** Next store key for a disk blob's file: above any fd number, never reused. */
    private int nextDiskKey = FIRST_DISK_KEY;
    /** The spill LRU: candidates oldest first (see the design note). */
    private final LinkedHashSet<Blob> cold = new LinkedHashSet<>();
    private long spilledBytes;
    private int spilledBlobs;
    private long spillingBytes;
    private int loadingBlobs;
    private boolean punchOutsideLock;
    private boolean spillEnabled;
    /** The work queued for after the lock: one queue for every store of the pool (see {@link AfterLock}). */
    private final AfterLock afterLock;

    /**
     * Spill files to delete and extents to punch once the lock is released, shared by the root's store
     * and every session's store over the same pool: whichever context releases the lock next does the
     * work, so a free that a connection of one session causes in another session's books (a moved blob)
     * is never left waiting for a context that may not take the lock again.
     */
    private static final class AfterLock {
        final List<SpillFile> filesToDelete = new ArrayList<>();
        final List<Extent> extentsToPunch = new ArrayList<>();
        long punchPendingBytes;
        /** Freed ranges whose pages stay resident until {@link #punchDecayed} (with a dirty decay), oldest first. */
        final java.util.ArrayDeque<Decaying> decaying = new java.util.ArrayDeque<>();
        long decayingBytes;
        /** {@code --dirty_decay_ms} in nanoseconds; 0: deletes punch at once. */
        long dirtyDecayNs;
        java.util.function.LongSupplier clockNs = System::nanoTime;
    }

    /** A freed range of the pool, beyond the warm part, whose pages are punched once idle for the decay. */
    private record Decaying(long offset, long end, long freedAtNs) {
    }

    /** Freed extents of at least this many bytes go back to the OS at once (#1620). */
    public static final long PUNCH_MIN_BYTES = 1L << 20;

    /** One spill file: blob {@code id}'s spill number {@code seq}. */
    public record SpillFile(long id, int seq) {
    }

    /**
     * A freed extent whose pages are punched out before it returns to the allocator; {@code keepWarm}:
     * all but those in the pool's warm part.
     */
    public record Extent(long offset, long size, boolean keepWarm) {
    }

    /** What must happen once the lock is released: spill files to delete, extents to punch. */
    public record PostLockWork(List<SpillFile> files, List<Extent> extents) {
    }

    /**
     * A get asked for blobs whose bytes are on disk (or being read back): reload them and ask again.
     * Thrown before the get changed anything.
     */
    public static final class NotResident extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient List<Blob> blobs;

        NotResident(List<Blob> blobs) {
            super("blobs not resident", null, false, false);
            this.blobs = blobs;
        }

        public List<Blob> blobs() {
            return blobs;
        }
    }

    /** The first store key given to a disk file (the pool's key is its fd, a small number). */
    public static final int FIRST_DISK_KEY = 1 << 24;

    public BlobStore(SharedMemoryPool pool, ObjectIds ids) {
        this(pool, new BestFitAllocator(pool.limit()), ids, pool.limit(), null, new AfterLock());
    }

    /**
     * A store over another store's pool and allocator (a session's): it has its own blobs and
     * accounting, and at most {@code quotaBytes} data bytes in the pool (visible blobs plus deleted ones
     * still held). Use it under the same lock as the store whose allocator it shares.
     *
     * @param quotaOwner what a refused allocation names, e.g. {@code session S0123...}
     */
    public BlobStore(BlobStore shared, long quotaBytes, String quotaOwner) {
        this(shared.pool, shared.allocator, shared.ids, Math.min(quotaBytes, shared.pool.limit()), quotaOwner,
                shared.afterLock);
        this.punchOutsideLock = shared.punchOutsideLock;
    }

    private BlobStore(SharedMemoryPool pool, BestFitAllocator allocator, ObjectIds ids, long quotaBytes, String quotaOwner,
                      AfterLock afterLock) {
        this.afterLock = afterLock;
        this.pool = pool;
        this.allocator = allocator;
        this.ids = ids;
        this.quotaBytes = quotaBytes;
        this.quotaOwner = quotaOwner;
    }

    /** Data bytes of visible (not deleted) pool blobs in the pool: vineyard's {@code memory_usage}. */
    public long usageBytes() {
        return usageBytes;
    }

    /** Data bytes of deleted pool blobs whose memory waits for their last holder. */
    public long deferredBytes() {
        return deferredBytes;
    }

    /** The most data bytes this store may hold: the pool's limit, or its session's limit. */
    public long limitBytes() {
        return quotaBytes;
    }

    /** The pool the store allocates from. */
    public SharedMemoryPool pool() {
        return pool;
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
        if (quotaOwner != null) {
            checkQuota(size);
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
        blob.owner = this;
        usageBytes += size;
        hold(blob, client);
        visible.put(blob.id, blob);
        return blob;
    }

    /** Refuses {@code size} more bytes beyond this session store's quota (nothing changes). */
    private void checkQuota(long size) {
        long held = usageBytes + deferredBytes;
        if (size < 0 || held + size > quotaBytes || held + size < 0) {
            throw new VineyardException.NotEnoughMemory("Failed to allocate memory of size "
                    + Long.toUnsignedString(size) + ": " + quotaOwner + " has a memory limit of " + quotaBytes
                    + " bytes, and " + usageBytes + " are already in use (" + deferredBytes
                    + " more deleted but still held by their readers)");
        }
    }

    /**
     * Moves sealed pool blobs, with their accounting, from this store to {@code to} (vineyard's
     * {@code move_buffers_ownership} between sessions), all or nothing: the blobs leave this store's
     * view and enter the other's. The connections that hold them keep their holds.
     *
     * @throws VineyardException.ObjectNotExists   when one is not a visible blob of this store
     * @throws VineyardException.ObjectNotSealed when one is not sealed
     * @throws VineyardException.NotEnoughMemory when they do not fit in {@code to}'s quota
     */
    public List<Blob> moveTo(long[] blobIds, BlobStore to) {
        if (to.allocator != allocator) {
            throw new IllegalArgumentException("blobs move only between stores of one pool");
        }
        List<Blob> moving = new ArrayList<>(blobIds.length);
        long bytes = 0;
        for (long id : blobIds) {
            if (id == ObjectIds.EMPTY_BLOB_ID) {
                continue;
            }
            Blob b = visible.get(id);
            if (b == null) {
                throw new VineyardException.ObjectNotExists("move_buffers_ownership: blob " + ObjectIds.toText(id)
                        + " does not exist in the source session");
            }
            if (!b.sealed) {
                throw new VineyardException.ObjectNotSealed("move_buffers_ownership: blob " + ObjectIds.toText(id)
                        + " is not sealed");
            }
            if (b.isDisk() || b.spilled() || b.ioInFlight) {
                throw new VineyardException.Invalid("move_buffers_ownership: blob " + ObjectIds.toText(id)
                        + " is " + (b.isDisk() ? "disk-backed" : "spilled") + " and cannot change sessions");
            }
            if (!moving.contains(b)) {
                moving.add(b);
                bytes += b.size;
            }
        }
        if (to.quotaOwner != null && !moving.isEmpty()) {
            to.checkQuota(bytes);
        }
        for (Blob b : moving) {
            visible.remove(b.id);
            cold.remove(b);
            usageBytes -= b.size;
            b.owner = to;
            to.visible.put(b.id, b);
            to.usageBytes += b.size;
            to.updateCold(b);
        }
        return moving;
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
        blob.owner = this;
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
        updateCold(blob);
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
        List<Blob> away = null;
        for (long id : blobIds) {
            Blob blob = find(id);
            if (blob == null) {
                continue;
            }
            if (!blob.sealed && !unsafe && blob.id != ObjectIds.EMPTY_BLOB_ID) {
                throw new VineyardException.ObjectNotSealed("Failed to get blob with id " + ObjectIds.toText(id));
            }
            if (blob.spilled()) {
                if (away == null) {
                    away = new ArrayList<>();
                }
                away.add(blob);
            }
            out.add(blob);
        }
        if (away != null) {
            throw new NotResident(away);
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
            updateCold(blob);
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
     * {@code is_in_use}: held by a connection, pinned, or owned by a stream, so that it cannot be
     * spilled now. With spilling off nothing can be spilled, so every existing blob is in use (what
     * vineyard answers then). False for an unknown id.
     */
    public boolean isInUse(long id) {
        Blob b = visible.get(id);
        return b != null && (!spillEnabled || !b.holders.isEmpty() || b.pinned || b.keepResident);
    }

    /** Spilling is on ({@code --spill_path}): {@link #isInUse} then means "held or pinned". */
    public void spillEnabled(boolean on) {
        this.spillEnabled = on;
    }

    /** {@code is_spilled}: the blob's bytes are in a spill file now. False for an unknown id. */
    public boolean isSpilled(long id) {
        Blob b = visible.get(id);
        return b != null && b.spilled();
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
                (blob.owner != null ? blob.owner : this).markDeleted(blob);
            }
            unhold(blob, client);
        }
    }

    private void markDeleted(Blob blob) {
        if (!blob.deleted) {
            visible.remove(blob.id);
            blob.deleted = true;
            deferredFrees++;
            if (blob.residence == Blob.Residence.SPILLED) {
                spilledBytes -= blob.size;
                spilledBlobs--;
            } else if (!blob.isDisk()) {
                usageBytes -= blob.size;
                deferredBytes += blob.size;
            }
            cold.remove(blob);
        }
    }

    /** Adds a hold; true when {@code client} did not hold {@code blob} before. A hold cancels a spill in flight. */
    private boolean hold(Blob blob, BlobLinks client) {
        if (client != null && blob.id != ObjectIds.EMPTY_BLOB_ID && blob.holders.add(client)) {
            client.links.add(blob);
            if (blob.residence == Blob.Residence.SPILLING) {
                blob.residence = Blob.Residence.RESIDENT; // still mapped: the file is dropped when written
            }
            (blob.owner != null ? blob.owner : this).cold.remove(blob);
            return true;
        }
        return false;
    }

    /** Puts {@code b} into the spill LRU (at the young end) or takes it out, as its state says. */
    private void updateCold(Blob b) {
        boolean candidate = b.sealed && !b.deleted && b.holders.isEmpty() && !b.pinned && !b.keepResident
                && !b.ioInFlight && b.residence == Blob.Residence.RESIDENT && !b.isDisk() && b.size > 0
                && b.id != ObjectIds.EMPTY_BLOB_ID;
        if (!candidate) {
            cold.remove(b);
        } else {
            cold.add(b); // a blob already there keeps its place
        }
    }

    private void unhold(Blob blob, BlobLinks client) {
        if (blob.holders.remove(client)) {
            client.links.remove(blob);
            if (blob.isDisk()) {
                client.diskReleased(blob.diskKey);
            }
        }
        // a blob moved to another session's store is accounted there, whoever held it
        BlobStore o = blob.owner != null ? blob.owner : this;
        o.freeIfUnheld(blob);
        o.updateCold(blob);
    }

    private void freeIfUnheld(Blob blob) {
        if (blob.deleted && !blob.freed && blob.holders.isEmpty() && !blob.ioInFlight) {
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
        if (blob.residence == Blob.Residence.SPILLED) {
            afterLock.filesToDelete.add(new SpillFile(blob.id, blob.spillSeq));
            return;
        }
        deferredBytes -= blob.size;
        releaseExtent(blob.offset, blob.size, blob.trimOnFree || blob.size >= PUNCH_MIN_BYTES, !blob.trimOnFree);
    }

    /**
     * Returns an extent to the allocator, its whole pages punched out first when {@code punch} (but
     * for those in the pool's warm part when {@code keepWarm}).
     */
    private void releaseExtent(long offset, long size, boolean punch, boolean keepWarm) {
        long len = BestFitAllocator.roundUp(size);
        if (punch && !keepWarm && offset < pool.warmBytes()) {
            pool.stopPrefault(); // a trimming delete in the warm part: its pages must stay punched
        }
        if (!punch || keepWarm && offset + len <= pool.warmBytes()) {
            allocator.free(offset, size);
        } else if (keepWarm && afterLock.dirtyDecayNs > 0) {
            // a plain delete with a dirty decay: reusable at once with its pages, punched once idle
            long from = Math.max(offset, pool.warmBytes());
            afterLock.decaying.addLast(new Decaying(from, offset + len, afterLock.clockNs.getAsLong()));
            afterLock.decayingBytes += offset + len - from;
            allocator.free(offset, size);
        } else if (punchOutsideLock) {
            queuePunch(new Extent(offset, len, keepWarm));
        } else {
            punchPages(new Extent(offset, len, keepWarm));
            allocator.free(offset, size);
        }
    }

    /** Queues an extent, out of the allocator, to be punched once the lock is released and then freed. */
    private void queuePunch(Extent e) {
        afterLock.extentsToPunch.add(e);
        afterLock.punchPendingBytes += e.size();
    }

    private void punchPages(Extent e) {
        if (e.keepWarm()) {
            pool.release(e.offset(), e.size());
        } else {
            pool.trim(e.offset(), e.size());
        }
    }

    /**
     * Punch freed extents after the lock is released instead of under it ({@link #takePostLockWork()},
     * then {@link #punched}); off by default (a store used without a daemon punches at once).
     */
    public void punchOutsideLock(boolean outside) {
        this.punchOutsideLock = outside;
    }

    /** Takes the file deletes and punches queued under the lock, or null when there are none. */
    public PostLockWork takePostLockWork() {
        if (afterLock.filesToDelete.isEmpty() && afterLock.extentsToPunch.isEmpty()) {
            return null;
        }
        PostLockWork w = new PostLockWork(List.copyOf(afterLock.filesToDelete), List.copyOf(afterLock.extentsToPunch));
        afterLock.filesToDelete.clear();
        afterLock.extentsToPunch.clear();
        return w;
    }

    /** Punches the pages of {@code extents} (no lock needed: nobody can allocate them yet). */
    public void punch(List<Extent> extents) {
        for (Extent e : extents) {
            punchPages(e);
        }
    }

    /**
     * Keeps the pages of blobs freed by a plain delete resident for {@code decayMs} before they are
     * punched ({@code --dirty_decay_ms}, as jemalloc's dirty-page decay): a put that follows soon reuses
     * them without the kernel's page allocation and zeroing; {@link #punchDecayed()} returns them once
     * idle that long, {@link #trimFree()} at once. 0 (the default of a bare store) punches at the delete.
     * Applies to every store over this store's allocator (sessions). The clock is in nanoseconds.
     */
    public void dirtyDecay(long decayMs, java.util.function.LongSupplier clockNs) {
        afterLock.dirtyDecayNs = Math.max(0, decayMs) * 1_000_000L;
        afterLock.clockNs = clockNs;
    }

    /** Bytes of freed ranges whose pages are kept resident until their decay ends (or less: some reused). */
    public long decayingBytes() {
        return afterLock.decayingBytes;
    }

    /**
     * Punches the pages of the freed ranges idle for the dirty decay, where they are still free (a range
     * allocated again meanwhile keeps its pages: a blob's bytes are never punched). Under the lock. With
     * {@link #punchOutsideLock(boolean)} the whole pages of those ranges are taken out of the allocator
     * and queued for after the lock ({@link #takePostLockWork()}, then {@link #punched}): a put arriving
     * meanwhile is not held up by the {@code fallocate}, and an allocation that needs them waits for
     * them ({@link #memoryComingBack()}).
     *
     * @return the bytes punched (or queued to be)
     */
    public long punchDecayed() {
        long now = afterLock.clockNs.getAsLong();
        List<Decaying> due = new ArrayList<>();
        while (!afterLock.decaying.isEmpty() && now - afterLock.decaying.peekFirst().freedAtNs() >= afterLock.dirtyDecayNs) {
            Decaying d = afterLock.decaying.pollFirst();
            afterLock.decayingBytes -= d.end() - d.offset();
            due.add(d);
        }
        if (due.isEmpty()) {
            return 0;
        }
        List<Extent> pieces = new ArrayList<>();
        allocator.forEachFree((offset, size) -> {
            for (Decaying d : due) {
                // whole pages only: those are what a punch returns, the slivers stay allocatable
                long from = pageUp(Math.max(offset, d.offset()));
                long to = Math.min(offset + size, d.end()) & -Posix.PAGE_SIZE;
                if (to > from) {
                    pieces.add(new Extent(from, to - from, false));
                }
            }
        });
        // a range freed, reused and freed again within one decay has two entries: its pieces overlap
        pieces.sort(java.util.Comparator.comparingLong(Extent::offset));
        List<Extent> idle = new ArrayList<>();
        for (Extent p : pieces) {
            Extent last = idle.isEmpty() ? null : idle.getLast();
            if (last != null && p.offset() <= last.offset() + last.size()) {
                long end = Math.max(last.offset() + last.size(), p.offset() + p.size());
                idle.set(idle.size() - 1, new Extent(last.offset(), end - last.offset(), false));
            } else {
                idle.add(p);
            }
        }
        long punched = 0;
        for (Extent e : idle) {
            punched += e.size();
            if (punchOutsideLock) {
                allocator.take(e.offset(), e.size());
                queuePunch(e);
            } else {
                punchPages(e);
            }
        }
        return punched;
    }

    private static long pageUp(long offset) {
        return (offset + Posix.PAGE_SIZE - 1) & -Posix.PAGE_SIZE;
    }

    /** Hands punched extents to the allocator (under the lock). */
    public void punched(List<Extent> extents) {
        for (Extent e : extents) {
            allocator.free(e.offset(), e.size());
            afterLock.punchPendingBytes -= e.size();
        }
    }

    // ---- spilling: state changes only; the Spiller does the I/O outside the lock ----------------

    /** Bytes of blobs whose payload is in spill files now. */
    public long spilledBytes() {
        return spilledBytes;
    }

    /** Number of blobs whose payload is in spill files now. */
    public int spilledBlobs() {
        return spilledBlobs;
    }

    /** Blobs being read back from their spill files now. */
    public int loadingBlobs() {
        return loadingBlobs;
    }

    /** Blobs in the spill LRU (candidates). */
    public int coldBlobs() {
        return cold.size();
    }

    /** True while spills or punches are in flight: memory is about to come back to the allocator. */
    public boolean memoryComingBack() {
        return spillingBytes > 0 || afterLock.punchPendingBytes > 0;
    }

    /**
     * Takes victims from the old end of the LRU until they add up to {@code bytes} (or the LRU is
     * empty), marking them SPILLING.
     */
    public List<Blob> pickVictims(long bytes) {
        List<Blob> out = new ArrayList<>();
        long picked = 0;
        for (Iterator<Blob> it = cold.iterator(); picked < bytes && it.hasNext(); ) {
            Blob b = it.next();
            it.remove();
            startSpill(b);
            picked += b.size;
            out.add(b);
        }
        return out;
    }

    private void startSpill(Blob b) {
        b.residence = Blob.Residence.SPILLING;
        b.ioInFlight = true;
        b.spillSeq++;
        spillingBytes += b.size;
    }

    /**
     * Marks the given blobs SPILLING for an explicit {@code evict}; blobs already spilled, being
     * spilled, empty or disk-backed are skipped. Nothing changes when one of them cannot be evicted.
     *
     * @throws VineyardException.Invalid when a blob is held by a connection, pinned, unsealed or a stream chunk
     */
    public List<Blob> pickForEvict(Collection<Blob> blobs) {
        List<Blob> out = new ArrayList<>();
        for (Blob b : blobs) {
            if (b.isDisk() || b.size == 0 || b.spilled() || b.ioInFlight) {
                continue;
            }
            String why = !b.sealed ? "it is not sealed" : !b.holders.isEmpty() ? "it is held by " + b.holders.size()
                    + " connection(s)" : b.pinned ? "it is pinned (unpin it first)"
                    : b.keepResident ? "it is a stream chunk" : null;
            if (why != null) {
                throw new VineyardException.Invalid("evict: blob " + ObjectIds.toText(b.id) + " cannot be spilled: " + why);
            }
            out.add(b);
        }
        for (Blob b : out) {
            cold.remove(b);
            startSpill(b);
        }
        return out;
    }

    /** The pool bytes a SPILLING blob's file is written from, or a LOADING blob's file is read into. */
    public MemorySegment ioBytes(Blob b) {
        if (!b.ioInFlight) {
            throw new IllegalStateException("no spill I/O in flight for blob " + ObjectIds.toText(b.id));
        }
        return pool.segment().asSlice(b.offset, b.size);
    }

    /** The spill file of a blob's current spill. */
    public static SpillFile fileOf(Blob b) {
        return new SpillFile(b.id, b.spillSeq);
    }

    /**
     * Ends a spill: when the file was {@code written} and no get took the blob meanwhile, its memory is
     * freed (its pages kept for the next allocation) and it is SPILLED; otherwise it stays resident and
     * the file is dropped.
     *
     * @return true when the blob is now spilled
     */
    public boolean spillDone(Blob b, boolean written) {
        b.ioInFlight = false;
        spillingBytes -= b.size;
        boolean spilled = written && !b.deleted && b.residence == Blob.Residence.SPILLING;
        if (spilled) {
            b.residence = Blob.Residence.SPILLED;
            usageBytes -= b.size;
            spilledBytes += b.size;
            spilledBlobs++;
            // not punched: the allocation that needed the room (or a reload) reuses these pages at once,
            // and a punched page costs its next writer the kernel's zeroing; memory_trim returns them
            releaseExtent(b.offset, b.size, false, false);
            b.offset = -1;
        } else {
            b.residence = Blob.Residence.RESIDENT;
            if (written) {
                afterLock.filesToDelete.add(fileOf(b));
            }
            freeIfUnheld(b);
        }
        updateCold(b);
        return spilled;
    }

    /**
     * Starts reloading a SPILLED blob for {@code by}: allocates its extent and holds it for {@code by}.
     *
     * @return false when the pool has no extent for it now (nothing changed)
     */
    public boolean startLoad(Blob b, BlobLinks by) {
        if (b.residence != Blob.Residence.SPILLED) {
            throw new IllegalStateException("blob " + ObjectIds.toText(b.id) + " is " + b.residence + ", not spilled");
        }
        long offset = allocator.allocate(b.size);
        if (offset < 0) {
            return false;
        }
        b.offset = offset;
        b.residence = Blob.Residence.LOADING;
        b.ioInFlight = true;
        loadingBlobs++;
        usageBytes += b.size;
        spilledBytes -= b.size;
        spilledBlobs--;
        hold(b, by);
        return true;
    }

    /**
     * Ends a reload: {@code ok}, the blob is resident and its file goes; otherwise its extent is freed
     * again and it stays spilled (a deleted blob just goes).
     */
    public void loadDone(Blob b, boolean ok) {
        b.ioInFlight = false;
        loadingBlobs--;
        if (ok || b.deleted) {
            b.residence = Blob.Residence.RESIDENT; // a deleted blob's extent is freed with it
            afterLock.filesToDelete.add(fileOf(b));
            freeIfUnheld(b);
        } else {
            allocator.free(b.offset, b.size);
            usageBytes -= b.size;
            spilledBytes += b.size;
            spilledBlobs++;
            b.offset = -1;
            b.residence = Blob.Residence.SPILLED;
        }
        updateCold(b);
    }

    /** Holds a resident blob for {@code by} (a spill in flight is cancelled); true when the hold is new. */
    public boolean take(Blob b, BlobLinks by) {
        return hold(b, by);
    }

    /** How many connections hold {@code b} (plasma's {@code ref_cnt}). */
    public int holderCount(Blob b) {
        return b.holders.size();
    }

    public boolean heldBy(Blob b, BlobLinks by) {
        return b.holders.contains(by);
    }

    /** True while another request reads the blob's file back into the pool. */
    public boolean isLoading(Blob b) {
        return b.residence == Blob.Residence.LOADING;
    }

    /** {@code load} with {@code pin}: the blob is never a spill victim until {@link #unpin}. */
    public void pin(Blob b) {
        b.pinned = true;
        updateCold(b);
    }

    public void unpin(Blob b) {
        b.pinned = false;
        updateCold(b);
    }

    /** Keeps a stream's queued chunk out of the spill LRU: the stream, not a connection, owns it. */
    public void keepResident(long id) {
        Blob b = visible.get(id);
        if (b != null) {
            b.keepResident = true;
            updateCold(b);
        }
    }

    /**
     * Returns the physical pages of every free extent to the OS (vineyard's {@code memory_trim}):
     * under the store lock, so that no extent is allocated while its pages are punched out.
     *
     * @return the bytes of the free extents trimmed
     */
    public long trimFree() {
        pool.stopPrefault(); // at most one chunk in flight: waited for, so its pages stay punched
        afterLock.decaying.clear();   // every free page goes now
        afterLock.decayingBytes = 0;
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
        if (blob.spilled()) {
            throw new IllegalStateException("blob " + ObjectIds.toText(blob.id) + " is spilled: reload it first");
        }
        return new BlobLocation(blob.id, pool.fd(), pool.fd(), blob.offset, blob.size, pool.mapSize(),
                pool.address(blob.offset), blob.sealed);
    }

    /** The daemon's view of a pool blob's bytes (RPC transfers). */
    public MemorySegment bytes(Blob blob) {
        if (blob.isDisk() || blob.size == 0 || blob.spilled()) {
            throw new VineyardException.Invalid("blob " + ObjectIds.toText(blob.id) + " has no pool bytes");
        }
        return pool.segment().asSlice(blob.offset, blob.size);
    }
}
