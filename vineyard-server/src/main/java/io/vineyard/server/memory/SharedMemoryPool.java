package io.vineyard.server.memory;

import io.vineyard.common.posix.Posix;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The daemon's shared-memory pool: one memfd, mapped once by the daemon and once by each client.
 *
 * <pre>
 *   memfd "vineyard-bulk" (size = limit + 8)
 *   +----------------------------------------------------------+--------+
 *   | blobs at 64-byte aligned offsets, [0, limit)             | gap(8) |
 *   +----------------------------------------------------------+--------+
 *   clients map map_size - 8 = limit bytes from offset 0 and address a blob as base + data_offset
 * </pre>
 *
 * The trailing 8 bytes mirror vineyard's {@code kMmapRegionsGap}, so {@code map_size} on the wire is
 * {@code limit + 8} exactly as vineyard reports it.
 *
 * <p>The warm part. The first write to a fresh page of shared memory costs the kernel a page
 * allocation and zeroing (about 1 GB/s on our machines, far below a copy's bandwidth). The pool's
 * low {@link #warmBytes()} (vineyard-java's {@code --warm_memory}, 256 MiB by default; the whole pool
 * with {@code --reserve_memory}) are pre-faulted by {@link #prefaultInBackground()} from the pool's
 * creation on, on a thread at nice 19 so that start-up and requests keep the CPUs, and deletes do not
 * punch them out again ({@link #release});
 * {@code memory_trim} still returns every free page, warm ones included, and ends the pre-faulting.
 * The allocator hands out low offsets first, so the first blobs of a fresh daemon land there.
 */
public final class SharedMemoryPool implements AutoCloseable {
    /** vineyard's {@code kMmapRegionsGap}. */
    public static final long MAP_GAP = 8;

    private final int fd;
    private final long limit;
    private final Arena arena;
    private final MemorySegment base;
    private final long warmBytes;
    private final boolean reserved;
    private boolean closed;
    /** Held while one chunk is pre-faulted, so that {@link #stopPrefault()} can wait for it. */
    private final ReentrantLock prefaultChunk = new ReentrantLock();
    private volatile boolean prefaultStopped;
    private volatile long prefaultedBytes;

    /** Bytes the background pre-fault populates per {@code madvise} call. */
    static final long PREFAULT_CHUNK = 8L << 20;

    private SharedMemoryPool(int fd, long limit, Arena arena, MemorySegment base, long warmBytes, boolean reserved) {
        this.fd = fd;
        this.limit = limit;
        this.arena = arena;
        this.base = base;
        this.warmBytes = warmBytes;
        this.reserved = reserved;
        this.prefaultedBytes = reserved ? warmBytes : 0;
    }

    /**
     * Creates the pool.
     *
     * @param limit   bytes the pool may hand out
     * @param reserve pre-fault every page now (vineyard's {@code --reserve_memory})
     * @throws IllegalArgumentException when {@code /dev/shm} cannot hold {@code limit} bytes
     */
    public static SharedMemoryPool create(long limit, boolean reserve) {
        return create(limit, reserve, 0);
    }

    /**
     * Creates the pool with a warm part.
     *
     * @param limit     bytes the pool may hand out
     * @param reserve   pre-fault every page now (vineyard's {@code --reserve_memory}); the whole pool is warm
     * @param warmBytes the low bytes that {@link #prefaultInBackground()} populates and deletes keep
     *                  (capped at {@code limit}; 0: none)
     */
    public static SharedMemoryPool create(long limit, boolean reserve, long warmBytes) {
        checkShmCapacity(limit);
        int fd = Posix.memfdCreate("vineyard-bulk");
        if (fd < 0) {
            throw Posix.error("memfd_create");
        }
        long fileSize = limit + MAP_GAP;
        if (Posix.ftruncate(fd, fileSize) != 0) {
            RuntimeException e = Posix.error("ftruncate of the pool to " + fileSize + " bytes");
            Posix.close(fd);
            throw e;
        }
        MemorySegment p = Posix.mmap(fileSize, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED, fd, 0);
        if (p.equals(MemorySegment.NULL)) {
            RuntimeException e = Posix.error("mmap of the pool");
            Posix.close(fd);
            throw e;
        }
        // huge pages where the machine allows them for shared memory on request (shmem_enabled=advise):
        // the pool's pages are then allocated, zeroed and mapped 2 MiB at a time, by the pre-fault and
        // by every client that asks as well (our SDKs do); nothing changes where it is 'never'
        Posix.adviseHugePages(p.reinterpret(fileSize), fileSize);
        if (reserve && Posix.madvise(p.reinterpret(fileSize), fileSize, Posix.MADV_POPULATE_WRITE) != 0) {
            RuntimeException e = Posix.error("pre-faulting the pool (--reserve_memory)");
            Posix.munmap(p.reinterpret(fileSize), fileSize);
            Posix.close(fd);
            throw e;
        }
        // the daemon's view belongs to a shared arena: once the pool is closed, a late access is an
        // IllegalStateException in the thread that tried it, never a SIGSEGV of the daemon
        Arena arena = Arena.ofShared();
        MemorySegment base = p.reinterpret(fileSize, arena, s -> Posix.munmap(s, fileSize));
        long warm = reserve ? limit : Math.max(0, Math.min(warmBytes, limit)) & -4096L;
        return new SharedMemoryPool(fd, limit, arena, base, warm, reserve);
    }

    /** Refuses a pool that /dev/shm (the tmpfs that backs shared memory here) could not hold. */
    static void checkShmCapacity(long limit) {
        Path shm = Path.of("/dev/shm");
        if (!Files.isDirectory(shm)) {
            return;
        }
        try {
            FileStore store = Files.getFileStore(shm);
            long usable = store.getUsableSpace();
            if (limit > usable) {
                throw new IllegalArgumentException("--size " + limit + " bytes is larger than the "
                        + usable + " bytes /dev/shm can still hold (total " + store.getTotalSpace()
                        + "); clients would get SIGBUS when they touch the pool. Use a smaller --size.");
            }
        } catch (IOException e) {
            // no statvfs of /dev/shm: nothing to check against
        }
    }

    public int fd() {
        return fd;
    }

    public long limit() {
        return limit;
    }

    /** {@code map_size} as the wire reports it. */
    public long mapSize() {
        return limit + MAP_GAP;
    }

    /** The daemon's own mapping of the whole pool. */
    public MemorySegment segment() {
        return base;
    }

    /** The daemon-side address of {@code offset}, reported as a payload's {@code pointer}. */
    public long address(long offset) {
        return base.address() + offset;
    }

    /** The low bytes of the pool that are pre-faulted and kept (see the class comment). */
    public long warmBytes() {
        return warmBytes;
    }

    /** Bytes of the warm part populated so far (all of it once the pre-fault is done). */
    public long prefaultedBytes() {
        return prefaultedBytes;
    }

    /**
     * Populates the warm part, low offsets first, on a background thread at nice 19: one
     * {@code madvise(MADV_POPULATE_WRITE)} per {@value #PREFAULT_CHUNK}-byte chunk (pages that clients
     * wrote meanwhile are only mapped, never changed). Returns the thread, or null when there is
     * nothing to do (no warm part, or {@code --reserve_memory} did it at start).
     */
    public Thread prefaultInBackground() {
        if (reserved || warmBytes == 0) {
            return null;
        }
        Thread t = Thread.ofPlatform().daemon().name("vineyard-prefault").unstarted(() -> {
            Posix.niceThisThread(19); // never ahead of a request's thread for a CPU
            for (long off = 0; off < warmBytes && !prefaultStopped; ) {
                long len = Math.min(PREFAULT_CHUNK, warmBytes - off);
                prefaultChunk.lock();
                try {
                    if (prefaultStopped || !populate(off, len)) {
                        return;
                    }
                } finally {
                    prefaultChunk.unlock();
                }
                off += len;
                prefaultedBytes = off;
            }
        });
        t.start();
        return t;
    }

    /** Populates {@code [offset, offset + len)}; false when the pool is gone or the kernel refused. */
    private boolean populate(long offset, long len) {
        try {
            return Posix.madvise(base.asSlice(offset, len), len, Posix.MADV_POPULATE_WRITE) == 0;
        } catch (IllegalStateException closedPool) {
            return false;
        }
    }

    /**
     * Ends the background pre-fault (at {@code memory_trim} and close): returns once no chunk is
     * being populated, so that pages punched afterwards stay punched.
     */
    public void stopPrefault() {
        prefaultStopped = true;
        prefaultChunk.lock();
        prefaultChunk.unlock();
    }

    /**
     * Returns the pages of a deleted blob's extent to the OS, except those in the warm part, which the
     * next blobs reuse without a first-touch fault.
     */
    public void release(long offset, long size) {
        long from = Math.max(offset, warmBytes);
        if (offset + size > from) {
            trim(from, offset + size - from);
        }
    }

    /** Returns the physical pages of a freed extent to the OS (vineyard's {@code memory_trim}). */
    public void trim(long offset, long size) {
        long page = 4096;
        long start = (offset + page - 1) & -page;
        long end = (offset + size) & -page;
        if (end > start) {
            Posix.fallocate(fd, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, start, end - start);
        }
    }

    /**
     * Unmaps the pool and closes its fd, unless some thread is inside a system call on the pool's
     * memory right now (a socket transfer): then nothing changes and it returns false, to be tried
     * again once that thread is out. Idempotent.
     */
    public synchronized boolean tryClose() {
        if (closed) {
            return true;
        }
        prefaultStopped = true;
        try {
            arena.close();
        } catch (IllegalStateException busy) {
            return false;
        }
        closed = true;
        Posix.close(fd);
        return true;
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /** As {@link #tryClose()}, for try-with-resources (tests); a busy pool stays mapped. */
    @Override
    public void close() {
        tryClose();
    }
}
