package io.vineyard.server.store;

import io.vineyard.common.ObjectIds;
import io.vineyard.common.VineyardException;
import io.vineyard.server.memory.SharedMemoryPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The blob lifecycle invariants (ARCHITECTURE.md 2, 3, 5) on a real memfd pool. */
class BlobStoreTest {
    private SharedMemoryPool pool;
    private BlobStore store;
    private final BlobLinks writer = new BlobLinks(1);
    private final BlobLinks reader = new BlobLinks(2);

    @BeforeEach
    void setUp() {
        pool = SharedMemoryPool.create(16 << 20, false);
        store = new BlobStore(pool, new ObjectIds(0, System::currentTimeMillis));
    }

    @AfterEach
    void tearDown() {
        pool.close();
    }

    @Test
    void deleteWhileAnotherConnectionHoldsDefersTheFree() {
        Blob b = store.create(800, writer);
        store.seal(b.id(), writer);
        store.get(new long[] {b.id()}, false, reader);
        assertTrue(store.delete(b.id(), writer, false));
        assertFalse(store.exists(b.id()), "gone from view at once");
        assertEquals(0, store.usageBytes(), "usage drops at the delete, as vineyard reports it");
        assertEquals(800, store.deferredBytes(), "memory kept while the reader holds it (#1916)");
        assertEquals(1, store.deferredFrees());
        // the freed extent is not reused under the reader
        Blob other = store.create(800, writer);
        assertTrue(other.offset() != b.offset());
        store.release(b.id(), reader);
        assertEquals(800, store.usageBytes(), "only the new blob remains");
        assertEquals(0, store.deferredBytes());
        assertEquals(0, store.deferredFrees());
    }

    @Test
    void aBlobMovedToAnotherSessionIsAccountedThereWhoeverHoldsIt() {
        BlobStore session = new BlobStore(store, 1 << 20, "session S1");
        long free = store.allocator().freeBytes();
        Blob b = store.create(4000, writer);
        store.seal(b.id(), writer);
        assertEquals(List.of(b), store.moveTo(new long[] {b.id(), b.id()}, session));
        assertFalse(store.exists(b.id()), "it left the source's view");
        assertTrue(session.exists(b.id()));
        assertEquals(0, store.usageBytes());
        assertEquals(4000, session.usageBytes());
        // the destination deletes it while the source's writer still holds it: deferred there
        session.delete(b.id(), null, false);
        assertEquals(4000, session.deferredBytes());
        assertEquals(0, store.deferredBytes());
        store.disconnect(writer);
        assertEquals(0, session.deferredBytes(), "the source connection's release freed it in the owner's books");
        assertEquals(0, session.deferredFrees());
        assertEquals(free, store.allocator().freeBytes(), "the extent is back in the shared allocator");
    }

    @Test
    void aSessionsQuotaRefusesAllocationsAndMovesBeyondIt() {
        BlobStore session = new BlobStore(store, 8192, "session S2");
        Blob kept = session.create(6000, writer);
        VineyardException.NotEnoughMemory e = assertThrows(VineyardException.NotEnoughMemory.class,
                () -> session.create(4000, writer));
        assertTrue(e.getMessage().contains("session S2 has a memory limit of 8192"), e.getMessage());
        assertEquals(6000, session.usageBytes(), "a refused allocation changes nothing");
        Blob big = store.create(4000, writer);
        store.seal(big.id(), writer);
        assertThrows(VineyardException.NotEnoughMemory.class, () -> store.moveTo(new long[] {big.id()}, session));
        assertTrue(store.exists(big.id()), "a refused move changes nothing");
        Blob unsealed = store.create(10, writer);
        assertThrows(VineyardException.ObjectNotSealed.class, () -> store.moveTo(new long[] {unsealed.id()}, session));
        session.disconnect(writer);
        store.disconnect(writer);
        assertFalse(session.exists(kept.id()), "an unsealed blob goes with its creator");
        store.delete(big.id(), null, false);
        assertEquals(0, store.usageBytes());
        assertEquals(0, session.usageBytes());
    }

    @Test
    void aDirtyDecayPunchesOnlyFreedRangesIdleForItAndNeverAReusedOne() {
        long[] nowNs = {0};
        store.dirtyDecay(1000, () -> nowNs[0]);
        long mib = 1 << 20;
        Blob a = store.create(4 * mib, writer);
        Blob b = store.create(4 * mib, writer);
        store.seal(a.id(), writer);
        store.seal(b.id(), writer);
        store.delete(a.id(), writer, false);
        store.delete(b.id(), writer, false);
        assertEquals(8 * mib, store.decayingBytes(), "both freed ranges decay");
        assertEquals(0, store.punchDecayed(), "nothing is due before the decay");
        // a's range is taken again before the decay ends: its new bytes must survive the punch
        Blob reused = store.create(4 * mib, writer);
        assertEquals(a.offset(), reused.offset(), "best fit reuses the lowest free extent");
        pool.segment().asSlice(reused.offset(), 4 * mib).fill((byte) 7);
        nowNs[0] += 1_000_000_000L;
        assertEquals(4 * mib, store.punchDecayed(), "only b's range, still free, is punched");
        assertEquals(0, store.decayingBytes());
        assertEquals(7, pool.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, reused.offset() + 4 * mib - 1));
        assertEquals(0, store.punchDecayed(), "each range is punched once");
    }

    @Test
    void outsideTheLockTheDecayedPagesAreTakenOutOfTheAllocatorUntilPunched() {
        long[] nowNs = {0};
        store.dirtyDecay(1000, () -> nowNs[0]);
        store.punchOutsideLock(true);
        long mib = 1 << 20;
        Blob a = store.create(4 * mib, writer);
        Blob b = store.create(4 * mib, writer);
        store.seal(b.id(), writer);
        pool.segment().asSlice(b.offset(), 4 * mib).fill((byte) 9);
        store.delete(b.id(), writer, false);
        nowNs[0] += 1_000_000_000L;
        assertEquals(4 * mib, store.punchDecayed());
        assertTrue(store.memoryComingBack(), "the range is out of the allocator while it is punched");
        Blob rest = store.create(8 * mib, writer); // the free tail beyond b is still allocatable
        assertEquals(8 * mib, rest.offset());
        assertThrows(VineyardException.NotEnoughMemory.class, () -> store.create(4 * mib, writer),
                "b's range is not handed out before its punch");
        BlobStore.PostLockWork work = store.takePostLockWork();
        assertEquals(List.of(new BlobStore.Extent(b.offset(), 4 * mib, false)), work.extents());
        store.punch(work.extents()); // as the daemon does it, without the lock
        store.punched(work.extents());
        assertFalse(store.memoryComingBack());
        Blob again = store.create(4 * mib, writer);
        assertEquals(b.offset(), again.offset(), "back in the allocator after the punch");
        assertEquals(0, pool.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, again.offset()),
                "its pages were punched (they read as zero)");
        assertEquals(a.offset(), 0);
    }

    @Test
    void aRangeFreedTwiceWithinOneDecayIsTakenAndPunchedOnce() {
        long[] nowNs = {0};
        store.dirtyDecay(1000, () -> nowNs[0]);
        store.punchOutsideLock(true);
        long mib = 1 << 20;
        Blob a = store.create(4 * mib, writer);
        store.seal(a.id(), writer);
        store.delete(a.id(), writer, false);
        nowNs[0] += 100_000_000L;
        Blob again = store.create(4 * mib, writer); // the same range, freed again before the first decay ends
        assertEquals(a.offset(), again.offset());
        store.seal(again.id(), writer);
        store.delete(again.id(), writer, false);
        nowNs[0] += 1_000_000_000L; // both frees are due in the same sweep
        assertEquals(4 * mib, store.punchDecayed(), "the overlapping decays count their pages once");
        BlobStore.PostLockWork work = store.takePostLockWork();
        assertEquals(List.of(new BlobStore.Extent(a.offset(), 4 * mib, false)), work.extents());
        store.punch(work.extents());
        store.punched(work.extents());
        assertFalse(store.memoryComingBack());
        assertEquals(16 << 20, store.allocator().freeBytes(), "every byte is back in the allocator");
    }

    @Test
    void deleteByTheOnlyHolderFreesAtOnce() {
        Blob b = store.create(4096, writer);
        store.seal(b.id(), writer);
        store.delete(b.id(), writer, true);
        assertEquals(0, store.usageBytes());
        assertEquals(16 << 20, store.allocator().freeBytes());
    }

    @Test
    void disconnectFreesUnsealedBlobsAndReleasesHolds() {
        Blob unsealed = store.create(1 << 20, writer);
        Blob sealed = store.create(1 << 20, writer);
        store.seal(sealed.id(), writer);
        store.get(new long[] {sealed.id()}, false, reader);
        store.delete(sealed.id(), writer, false);
        store.disconnect(writer);
        assertNull(store.find(unsealed.id()), "a dead writer's unsealed blob is deleted (#2072)");
        assertEquals(0, store.usageBytes(), "both are deleted");
        assertEquals(1 << 20, store.deferredBytes(), "the sealed one waits for the reader");
        store.disconnect(reader);
        assertEquals(0, store.deferredBytes());
        assertEquals(16 << 20, store.allocator().freeBytes(), "every extent is back");
        assertEquals(0, writer.linkCount() + reader.linkCount());
    }

    @Test
    void sealOfADeletedUnsealedBlobFailsAndFrees() {
        Blob b = store.create(100, writer);
        store.delete(b.id(), reader, false); // e.g. a clear from another connection
        assertEquals(100, store.deferredBytes(), "the creator may still be writing into it");
        assertThrows(VineyardException.ObjectNotExists.class, () -> store.seal(b.id(), writer));
        store.disconnect(writer);
        assertEquals(0, store.usageBytes() + store.deferredBytes());
    }

    @Test
    void failedAllocationsLeaveUsageUnchanged() {
        store.create(1000, writer);
        assertThrows(VineyardException.NotEnoughMemory.class, () -> store.create(17 << 20, writer));
        assertThrows(VineyardException.NotEnoughMemory.class,
                () -> store.createAll(new long[] {1 << 20, 1 << 20, 32 << 20}, writer));
        assertEquals(1000, store.usageBytes());
        assertEquals(1, writer.linkCount());
    }

    @Test
    void unsealedBlobsNeedUnsafe() {
        Blob b = store.create(10, writer);
        assertThrows(VineyardException.ObjectNotSealed.class, () -> store.get(new long[] {b.id()}, false, reader));
        assertEquals(1, store.get(new long[] {b.id()}, true, reader).size());
        assertEquals(1, store.get(new long[] {ObjectIds.EMPTY_BLOB_ID}, false, reader).size());
    }

    @Test
    void shrinkReturnsTheTail() {
        Blob b = store.create(16 << 20, writer);
        store.shrink(b.id(), 1 << 20);
        assertEquals(1 << 20, store.usageBytes());
        assertEquals(15 << 20, store.allocator().freeBytes());
        store.seal(b.id(), writer);
        assertThrows(VineyardException.class, () -> store.shrink(b.id(), 10));
        List<Blob> more = store.createAll(new long[] {8 << 20}, writer);
        assertEquals(1, more.size());
    }
}
