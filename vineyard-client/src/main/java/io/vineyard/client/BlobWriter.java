package io.vineyard.client;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A blob being written: {@link #segment()} is writable until the blob is sealed, by {@link #seal()} or by
 * the put of an object that has it as a member ({@link #asMember()}); after that the writable view is
 * invalid and every access throws {@link IllegalStateException}. Over IPC the segment lies in the daemon's
 * pool (what you write is what readers see, no copy); over RPC it is a local buffer uploaded at seal time.
 *
 * <p>A writer never sealed is dropped by the daemon when the client closes.
 */
public final class BlobWriter {
    /** How a writer prepares part of its bytes before they are written (over IPC: populate fresh pages). */
    @FunctionalInterface
    interface Prefaulter {
        /** Nothing to prepare (RPC buffers, or prefaulting off). */
        Prefaulter NONE = (from, length) -> { };

        void prepare(long from, long length);
    }

    /** Copies of at least this many bytes are split across threads ({@link #fill}). */
    static final long PARALLEL_FILL_BYTES = 16L << 20;

    private final AbstractClient client;
    private final Prefaulter prefaulter;
    private final long size;
    /** The bytes where they live: a slice of the pool's mapping (IPC, outlives the seal) or a local buffer (RPC). */
    private final MemorySegment target;
    private final Arena viewArena;
    /** The writable view handed out, closed at seal (over IPC an arena of its own over {@link #target}). */
    private final MemorySegment view;
    private final ObjectMeta entry;
    private volatile ObjectId id;
    private volatile boolean sealed;
    private volatile boolean keepOnFailedPut;

    BlobWriter(AbstractClient client, ObjectId id, MemorySegment target, Arena viewArena) {
        this(client, id, target, viewArena, Prefaulter.NONE);
    }

    BlobWriter(AbstractClient client, ObjectId id, MemorySegment target, Arena viewArena, Prefaulter prefaulter) {
        this.client = client;
        this.prefaulter = prefaulter;
        this.id = id;
        this.size = target.byteSize();
        this.target = target;
        this.viewArena = viewArena;
        this.view = viewArena == null ? target : target.reinterpret(size, viewArena, null);
        this.entry = ObjectMeta.blobEntry(id == null ? ObjectId.EMPTY_BLOB : id, size, client.instanceId()).withPendingBlob(this);
        if (id == null) {
            this.entry.remove("id");
        }
    }

    /** The blob's id (over RPC: null until sealed, the daemon assigns it at upload). */
    public ObjectId id() {
        return id;
    }

    /** The size in bytes. */
    public long size() {
        return size;
    }

    /**
     * The writable bytes.
     *
     * @throws IllegalStateException once sealed
     */
    public MemorySegment segment() {
        if (sealed) {
            throw new IllegalStateException("blob " + id + " is sealed: its writable view is gone");
        }
        return view;
    }

    /** True once sealed. */
    public boolean isSealed() {
        return sealed;
    }

    /**
     * This blob as a member of an object being built. The put of that object seals it, in the same
     * request that creates the object.
     */
    public ObjectMeta asMember() {
        return entry;
    }

    /** Seals the blob now (one request) and returns a read-only view of it, held until closed. */
    public Blob seal() {
        if (sealed) {
            throw new VineyardException(Status.OBJECT_SEALED, "seal: blob " + id + " is already sealed");
        }
        return client.sealWriter(this);
    }

    /**
     * Makes a failed put leave this blob unsealed and writable instead of dropping it, for a blob whose
     * owner drops it itself (an Arrow allocator's buffer: the vectors still use it).
     *
     * @return this writer
     */
    public BlobWriter keepOnFailedPut() {
        this.keepOnFailedPut = true;
        return this;
    }

    boolean keptOnFailedPut() {
        return keepOnFailedPut;
    }

    /**
     * Drops the blob from the daemon and invalidates the writable view, when it is not sealed yet (a value
     * built and then abandoned); nothing once sealed (the blob then belongs to the objects that hold it).
     */
    public void abort() {
        client.abortWriter(this);
    }

    AbstractClient client() {
        return client;
    }

    /** Prepares every byte for writing (a writer handed to user code writes all of it). */
    BlobWriter prefaultAll() {
        prefaulter.prepare(0, size);
        return this;
    }

    /**
     * Copies {@code src} (this writer's size) in, each part prepared just before it is copied; from
     * {@link #PARALLEL_FILL_BYTES} up the parts go to {@code threads} threads (this one and virtual
     * threads), so page population and the copy of fresh memory use every core.
     */
    void fill(MemorySegment src, int threads) {
        MemorySegment dst = segment();
        int parts = size >= PARALLEL_FILL_BYTES ? Math.max(1, threads) : 1;
        long partBytes = (size / parts + PagePopulator.CHUNK_BYTES - 1) & -PagePopulator.CHUNK_BYTES;
        List<Thread> helpers = new ArrayList<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        for (long off = partBytes; off < size && parts > 1; off += partBytes) {
            long from = off;
            long length = Math.min(partBytes, size - off);
            helpers.add(Thread.ofVirtual().start(() -> {
                try {
                    fillPart(src, dst, from, length);
                } catch (Throwable t) {
                    failed.compareAndSet(null, t);
                }
            }));
        }
        fillPart(src, dst, 0, parts > 1 ? Math.min(partBytes, size) : size);
        for (Thread t : helpers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VineyardException(Status.INVALID, "interrupted while copying into blob " + id, e);
            }
        }
        Throwable t = failed.get();
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
    }

    private void fillPart(MemorySegment src, MemorySegment dst, long from, long length) {
        prefaulter.prepare(from, length);
        MemorySegment.copy(src, from, dst, from, length);
    }

    /** The writable bytes before the seal (an RPC upload reads them). */
    MemorySegment rawTarget() {
        return view;
    }

    /**
     * Over IPC: the blob's bytes in the client's mapping of the pool, which stays valid after the seal
     * (the sealed blob's read-only view is this, no search of the mappings).
     */
    MemorySegment poolBytes() {
        return target;
    }

    void assignId(ObjectId assigned) {
        this.id = assigned;
        entry.setId(assigned);
    }

    /** Invalidates the writable view (called once the daemon sealed the blob). */
    void markSealed() {
        if (sealed) {
            return;
        }
        sealed = true;
        entry.withPendingBlob(null);
        if (viewArena != null) {
            viewArena.close();
        }
    }

    @Override
    public String toString() {
        return "BlobWriter[" + id + ", " + size + " bytes" + (sealed ? ", sealed" : "") + "]";
    }
}
