package io.vineyard.server.daemon;

import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;
import io.vineyard.server.SpillSettings;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobLinks;
import io.vineyard.server.store.BlobStore;
import io.vineyard.server.store.SpillDirectory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Moves blobs between the pool and the spill directory: the I/O half of spilling, run on the
 * requesting connection's thread and never under the store lock.
 *
 * <p>Design note. Every spill and every reload is three steps: a locked step that changes the blob's
 * state in {@link BlobStore} (victims become SPILLING, a reload allocates and becomes LOADING), the
 * file I/O without the lock, and a locked step that ends it. A request that needs room or a blob
 * someone else is reloading waits for the next end of any spill or reload ({@link #ioDone}), then
 * looks again. So one reload serves every concurrent getter of a blob (the first starts it, the others
 * wait for it), a get never waits for a spill (it cancels it: the bytes are still in the pool), and an
 * allocation fails with {@code NotEnoughMemory} only once nothing can be spilled and no spill is still
 * in flight. Rules, as vineyard's: an allocation that does not fit spills
 * {@code max(size, usage + size - lower)} bytes first; after an allocation or a reload that leaves
 * usage at or above the upper watermark, {@code usage - lower} bytes are spilled before the reply.
 */
public final class Spiller {
    private static final Logger LOG = LoggerFactory.getLogger(Spiller.class);
    /** How long a waiter sleeps at most before it looks again (a safety net, not the wake-up). */
    private static final long RECHECK_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final DaemonContext ctx;
    private final BlobStore blobs;
    private final SpillDirectory dir;
    private final long lowerBytes;
    private final long upperBytes;
    /** The end-of-I/O signal: a session's spiller shares its root's, since they share one allocator. */
    private final IoSignal io;
    private final AtomicLong spills = new AtomicLong();
    private final AtomicLong spillBytes = new AtomicLong();
    private final AtomicLong spillNanos = new AtomicLong();
    private final AtomicLong reloads = new AtomicLong();
    private final AtomicLong reloadBytes = new AtomicLong();
    private final AtomicLong reloadNanos = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile String lastFailure = "";

    /**
     * @param root the root daemon's spiller for a session's (they share the allocator, so one's spills and
     *             punches are memory coming back for the other's waiters), or null for the root's own
     */
    Spiller(DaemonContext ctx, BlobStore blobs, SpillDirectory dir, SpillSettings settings, Spiller root) {
        this.io = root != null ? root.io : new IoSignal();
        this.ctx = ctx;
        this.blobs = blobs;
        this.dir = dir;
        this.lowerBytes = settings.lowerBytes(blobs.limitBytes());
        this.upperBytes = settings.upperBytes(blobs.limitBytes());
    }

    /** True with {@code --spill_path}. */
    public boolean enabled() {
        return dir != null;
    }

    /** The spill directory, or null. */
    public SpillDirectory directory() {
        return dir;
    }

    /** Counters for {@code server_stats}. */
    public record Stats(long spills, long spillBytes, long spillNanos, long reloads, long reloadBytes,
                        long reloadNanos, long failures, String lastFailure) {
    }

    public Stats stats() {
        return new Stats(spills.get(), spillBytes.get(), spillNanos.get(), reloads.get(), reloadBytes.get(),
                reloadNanos.get(), failures.get(), lastFailure);
    }

    // ---- allocation --------------------------------------------------------------------------------

    /**
     * Runs {@code lockedCreate} (which takes the lock itself); when it fails for want of memory, spills
     * to make room for {@code bytes} and runs it again, until it succeeds or nothing can be spilled.
     * Then spills down to the lower watermark if usage reached the upper one.
     */
    public <T> T allocating(long bytes, Supplier<T> lockedCreate) {
        while (true) {
            try {
                T out = lockedCreate.get();
                spillAboveUpperWatermark();
                return out;
            } catch (VineyardException.NotEnoughMemory e) {
                if (bytes > blobs.limitBytes()) {
                    throw e; // an allocation larger than the pool never fits: spill nothing for it
                }
                if (!enabled()) {
                    if (awaitPunches()) {
                        continue; // freed pages were being punched outside the lock: they are back now
                    }
                    throw e;
                }
                String why = makeRoom(bytes);
                if (why != null) {
                    throw new VineyardException.NotEnoughMemory(e.getMessage() + "; " + why);
                }
            }
        }
    }

    /**
     * Without spilling: when freed extents are being punched outside the lock (a trimming delete, the
     * dirty decay's punch), waits until one batch of them is back in the allocator and returns true;
     * false when nothing is coming back.
     */
    private boolean awaitPunches() {
        long[] gen = new long[1];
        boolean coming = ctx.locked(() -> {
            gen[0] = generation();
            return blobs.memoryComingBack();
        });
        if (coming) {
            awaitIo(gen[0]);
        }
        return coming;
    }

    /**
     * Before an allocation that cannot go through {@link #allocating} (a stream chunk, made inside the
     * stream's wait): spills until the pool has an extent of {@code bytes}, or nothing more can spill.
     * Best effort: the allocation itself still reports {@code NotEnoughMemory}.
     */
    public void makeRoomFor(long bytes) {
        if (!enabled() || bytes > blobs.limitBytes()) {
            return;
        }
        while (!ctx.locked(() -> blobs.allocator().largestFreeExtent() >= bytes) && makeRoom(bytes) == null) {
            // spilled (or waited for spills in flight): look again
        }
    }

    /** One attempt to make room for {@code bytes}: null when worth trying again, else why not. */
    private String makeRoom(long bytes) {
        long[] gen = new long[1];
        List<Blob> victims = ctx.locked(() -> {
            gen[0] = generation();
            long demand = Math.max(bytes, blobs.usageBytes() + bytes - lowerBytes);
            List<Blob> v = blobs.pickVictims(demand);
            return v.isEmpty() && !blobs.memoryComingBack() ? null : v;
        });
        if (victims == null) {
            return "nothing more can be spilled (" + ctx.locked(blobs::spilledBytes) + " bytes are spilled already;"
                    + " every blob left in the pool is held by a connection, pinned, unsealed or a stream chunk)";
        }
        if (victims.isEmpty()) {
            awaitIo(gen[0]); // spills or punches of other requests are about to give memory back
            return null;
        }
        Spilled out = spill(victims);
        // nothing freed and a failure: the disk cannot take more; nothing freed, no failure: gets
        // cancelled the spills (those blobs are in use again), so look again
        return out.count() > 0 || out.failure() == null ? null
                : "spilling to " + dir.path() + " failed: " + out.failure();
    }

    /** After an allocation or reload: spills down to the lower watermark when usage reached the upper one. */
    private void spillAboveUpperWatermark() {
        if (!enabled()) {
            return;
        }
        List<Blob> victims = ctx.locked(() -> blobs.usageBytes() >= upperBytes
                ? blobs.pickVictims(blobs.usageBytes() - lowerBytes) : List.of());
        if (!victims.isEmpty()) {
            Spilled out = spill(victims);
            if (out.failure() != null) {
                LOG.warn("spilling above the upper watermark ({} bytes) failed: {}", upperBytes, out.failure());
            }
        }
    }

    /** What a spill did: blobs whose memory it freed, and the failure that stopped it (or null). */
    private record Spilled(int count, String failure) {
    }

    /** Writes the SPILLING {@code victims} to files and ends their spills. */
    private Spilled spill(List<Blob> victims) {
        boolean[] written = new boolean[victims.size()];
        String failure = null;
        long t0 = System.nanoTime();
        long bytes = 0;
        for (int i = 0; i < victims.size(); i++) {
            Blob b = victims.get(i);
            BlobStore.SpillFile f = BlobStore.fileOf(b);
            try {
                dir.write(f.id(), f.seq(), blobs.ioBytes(b));
                written[i] = true;
                bytes += b.size();
            } catch (IOException | RuntimeException e) {
                failure = "blob " + ObjectIds.toText(b.id()) + " (" + b.size() + " bytes): " + e.getMessage();
                break; // the disk is full or failing: the rest stay in memory
            }
        }
        long took = System.nanoTime() - t0;
        int[] spilled = {0};
        ctx.lockedRun(() -> {
            for (int i = 0; i < victims.size(); i++) {
                if (blobs.spillDone(victims.get(i), written[i])) {
                    spilled[0]++;
                }
            }
        });
        ioDone();
        spills.addAndGet(spilled[0]);
        spillBytes.addAndGet(bytes);
        spillNanos.addAndGet(took);
        if (failure != null) {
            failures.incrementAndGet();
            lastFailure = failure;
            LOG.error("spilling to {} failed: {}", dir.path(), failure);
        }
        return new Spilled(spilled[0], failure);
    }

    // ---- reloading ---------------------------------------------------------------------------------

    /**
     * Runs {@code lookup} (which takes the lock itself and gets blobs through {@link BlobStore#get});
     * when it needs spilled blobs, reloads them outside the lock, held for {@code by}, and runs it
     * again. On success the holds the reloads took are added to {@code newlyHeld} (when not null); on
     * failure they are dropped.
     */
    public <T> T resident(BlobLinks by, List<Blob> newlyHeld, Supplier<T> lookup) {
        List<Blob> taken = new ArrayList<>();
        try {
            while (true) {
                try {
                    T out = lookup.get();
                    if (!taken.isEmpty()) {
                        spillAboveUpperWatermark();
                    }
                    if (newlyHeld != null) {
                        newlyHeld.addAll(taken);
                    }
                    return out;
                } catch (BlobStore.NotResident nr) {
                    for (Blob b : nr.blobs()) {
                        makeResident(b, by, taken);
                    }
                }
            }
        } catch (RuntimeException e) {
            if (!taken.isEmpty()) {
                ctx.lockedRun(() -> taken.forEach(b -> blobs.releaseIfHeld(b.id(), by)));
            }
            throw e;
        }
    }

    private enum Next { DONE, WAIT, LOAD, ROOM }

    /**
     * Brings {@code b} into the pool and holds it for {@code by} (recorded in {@code taken} when the
     * hold is new). Returns once it is resident or deleted.
     */
    private void makeResident(Blob b, BlobLinks by, List<Blob> taken) {
        while (true) {
            long[] gen = new long[1];
            boolean[] newHold = new boolean[1];
            Next next = ctx.locked(() -> {
                gen[0] = generation();
                if (!blobs.exists(b.id())) {
                    return Next.DONE; // deleted meanwhile: the lookup skips it
                }
                if (!b.spilled()) {
                    newHold[0] = blobs.take(b, by);
                    return Next.DONE;
                }
                if (blobs.isLoading(b)) {
                    return Next.WAIT; // another request reloads it: one reload serves all
                }
                newHold[0] = !blobs.heldBy(b, by);
                return blobs.startLoad(b, by) ? Next.LOAD : Next.ROOM;
            });
            switch (next) {
                case DONE -> {
                    if (newHold[0]) {
                        taken.add(b);
                    }
                    return;
                }
                case WAIT -> awaitIo(gen[0]);
                case LOAD -> {
                    load(b, by, newHold[0]);
                    if (newHold[0]) {
                        taken.add(b);
                    }
                    return;
                }
                case ROOM -> {
                    String why = makeRoom(b.size());
                    if (why != null) {
                        throw new VineyardException.NotEnoughMemory("cannot reload the spilled blob "
                                + ObjectIds.toText(b.id()) + " of " + b.size() + " bytes: " + why);
                    }
                }
            }
        }
    }

    /** Reads a LOADING blob's file into its extent and ends the reload. */
    private void load(Blob b, BlobLinks by, boolean newHold) {
        BlobStore.SpillFile f = BlobStore.fileOf(b);
        long t0 = System.nanoTime();
        IOException failure = null;
        try {
            MemorySegment into = blobs.ioBytes(b);
            // the extent may have been punched (a deleted large blob's, or memory_trim): fault its pages in
            // with one call, not one fault per page inside read() (about twice the reload bandwidth here)
            Posix.populateWrite(into.address(), into.byteSize());
            dir.read(f.id(), f.seq(), into);
        } catch (IOException e) {
            failure = e;
        }
        long took = System.nanoTime() - t0;
        boolean ok = failure == null;
        ctx.lockedRun(() -> {
            blobs.loadDone(b, ok);
            if (!ok && newHold) {
                blobs.releaseIfHeld(b.id(), by);
            }
        });
        ioDone();
        if (!ok) {
            failures.incrementAndGet();
            lastFailure = failure.getMessage();
            throw new VineyardException(Status.IO_ERROR, "reloading the spilled blob " + ObjectIds.toText(b.id())
                    + " failed: " + failure.getMessage(), failure);
        }
        reloads.incrementAndGet();
        reloadBytes.addAndGet(b.size());
        reloadNanos.addAndGet(took);
    }

    // ---- explicit control --------------------------------------------------------------------------

    /**
     * {@code evict}: spills {@code targets} now (blobs already on disk are skipped).
     *
     * @return the number of blobs spilled
     * @throws VineyardException.Invalid when one of them is in use (nothing is spilled then)
     * @throws VineyardException with {@code IOError} when a file could not be written (those blobs stay in memory)
     */
    public int evict(Collection<Blob> targets) {
        requireEnabled("evict");
        List<Blob> victims = ctx.locked(() -> blobs.pickForEvict(targets));
        if (victims.isEmpty()) {
            return 0;
        }
        Spilled out = spill(victims);
        if (out.failure() != null) {
            throw new VineyardException(Status.IO_ERROR, "evict: spilling to " + dir.path() + " failed: "
                    + out.failure() + " (that blob and the ones after it stay in memory)");
        }
        return out.count();
    }

    /** {@code load}: reloads {@code targets} into the pool, and with {@code pin} keeps them there. */
    public void load(Collection<Blob> targets, boolean pin, BlobLinks by) {
        List<Blob> taken = new ArrayList<>();
        try {
            for (Blob b : targets) {
                makeResident(b, by, taken);
            }
            if (!taken.isEmpty()) {
                spillAboveUpperWatermark();
            }
        } finally {
            ctx.lockedRun(() -> {
                for (Blob b : targets) {
                    if (pin && !b.spilled() && blobs.exists(b.id())) {
                        blobs.pin(b);
                    }
                }
                taken.forEach(b -> blobs.releaseIfHeld(b.id(), by));
            });
        }
    }

    private void requireEnabled(String what) {
        if (!enabled()) {
            throw new VineyardException.Invalid(what + ": spilling is off (start vineyardd with --spill_path)");
        }
    }

    // ---- the end-of-I/O signal ---------------------------------------------------------------------

    /** Read under the store lock, before deciding to wait. */
    long generation() {
        return io.generation();
    }

    /** A spill, reload or punch ended (call after the lock is released). */
    void ioDone() {
        io.done();
    }

    /** Waits until some I/O ended after {@code seen} was read (at most {@link #RECHECK_NS}). */
    private void awaitIo(long seen) {
        awaitIo(seen, RECHECK_NS);
    }

    /** As {@link #awaitIo(long)}, for at most {@code boundNs}. */
    void awaitIo(long seen, long boundNs) {
        io.await(seen, boundNs);
    }

    /** A generation counter that each end of a spill, reload or punch bumps, with waiters on it. */
    private static final class IoSignal {
        private long generation;

        synchronized long generation() {
            return generation;
        }

        synchronized void done() {
            generation++;
            notifyAll();
        }

        synchronized void await(long seen, long boundNs) {
            long deadline = System.nanoTime() + boundNs;
            long left;
            while (generation == seen && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new VineyardException(Status.UNKNOWN_ERROR, "interrupted while waiting for spill I/O", e);
                }
            }
        }
    }
}
