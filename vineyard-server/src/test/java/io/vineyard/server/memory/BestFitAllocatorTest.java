package io.vineyard.server.memory;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BestFitAllocatorTest {
    @Test
    void extentsAre64ByteAlignedAndDisjoint() {
        BestFitAllocator a = new BestFitAllocator(1 << 20);
        long x = a.allocate(1);
        long y = a.allocate(65);
        long z = a.allocate(64);
        assertEquals(0, x % 64);
        assertEquals(0, y % 64);
        assertEquals(0, z % 64);
        assertTrue(y >= x + 64 && z >= y + 128 || z < y, "no overlap: " + x + " " + y + " " + z);
        assertEquals((1 << 20) - 64 - 128 - 64, a.freeBytes());
    }

    @Test
    void aTakenRangeIsNotHandedOutUntilFreedAndThenCoalescesBack() {
        BestFitAllocator a = new BestFitAllocator(1 << 20);
        a.take(256 << 10, 256 << 10); // the middle of the one free extent
        assertEquals(3 << 18, a.freeBytes());
        assertEquals(2, a.freeExtents(), "the extent is split around the taken range");
        assertEquals(512 << 10, a.largestFreeExtent());
        List<Long> got = new ArrayList<>();
        for (long off; (off = a.allocate(64 << 10)) >= 0; ) {
            got.add(off);
        }
        assertEquals(12, got.size(), "every other 64 KiB slot, none in the taken range");
        assertTrue(got.stream().noneMatch(o -> o >= 256 << 10 && o < 512 << 10), got.toString());
        got.forEach(o -> a.free(o, 64 << 10));
        var notFree = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> a.take(300 << 10, 4096));
        assertTrue(notFree.getMessage().contains("not a free range"), notFree.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> a.take(100, 4096));
        a.free(256 << 10, 256 << 10);
        assertEquals(1 << 20, a.freeBytes());
        assertEquals(1, a.freeExtents(), "freed again, it coalesces with both neighbours");
    }

    @Test
    void failedAllocationChangesNothing() {
        BestFitAllocator a = new BestFitAllocator(8 << 20);
        long free = a.freeBytes();
        assertEquals(-1, a.allocate((8 << 20) + 1));
        assertEquals(-1, a.allocate(-5));
        assertEquals(free, a.freeBytes());
        assertEquals(0, a.allocate((long) (7.5 * (1 << 20))), "7.5 MiB fits in an empty 8 MiB pool (#862)");
    }

    @Test
    void freeCoalescesBackToOneExtent() {
        BestFitAllocator a = new BestFitAllocator(1 << 20);
        List<Long> offs = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            offs.add(a.allocate(1000));
        }
        for (int i = 0; i < offs.size(); i += 2) {
            a.free(offs.get(i), 1000);
        }
        for (int i = 1; i < offs.size(); i += 2) {
            a.free(offs.get(i), 1000);
        }
        assertEquals(1, a.freeExtents());
        assertEquals(1 << 20, a.largestFreeExtent());
    }

    @Test
    void bestFitPrefersTheSmallestHole() {
        BestFitAllocator a = new BestFitAllocator(1 << 20);
        long small = a.allocate(128);
        a.allocate(64);
        long big = a.allocate(4096);
        a.allocate(64);
        a.free(big, 4096);
        a.free(small, 128);
        assertEquals(small, a.allocate(100), "a small request goes to the small hole, not the big one");
    }

    @Test
    void fragmentedPoolStillServesLargeBlockAfterHalfIsFreed() {
        long mib = 1 << 20;
        BestFitAllocator a = new BestFitAllocator(100 * mib);
        List<Long> offs = new ArrayList<>();
        for (int i = 0; i < 90; i++) {
            offs.add(a.allocate(mib));
        }
        for (int i = 0; i < 90; i += 2) {
            a.free(offs.get(i), mib);
        }
        // 45 one-MiB holes plus the 10 MiB tail: a 40 MiB blob does not fit, and the error can say why
        assertEquals(-1, a.allocate(40 * mib));
        assertEquals(10 * mib, a.largestFreeExtent());
        assertEquals(55 * mib, a.freeBytes());
    }

    @Test
    void randomAllocFreeKeepsTheBooksExact() {
        SplittableRandom rnd = new SplittableRandom(42);
        long capacity = 64 << 20;
        BestFitAllocator a = new BestFitAllocator(capacity);
        TreeMap<Long, Long> live = new TreeMap<>();
        List<Long> liveOffsets = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            if (live.isEmpty() || rnd.nextInt(3) > 0) {
                long size = rnd.nextInt(8) == 0 ? rnd.nextLong(1, 4 << 20) : rnd.nextLong(1, 4096);
                long off = a.allocate(size);
                if (off >= 0) {
                    var before = live.floorEntry(off);
                    assertTrue(before == null || before.getKey() + BestFitAllocator.roundUp(before.getValue()) <= off);
                    var after = live.ceilingEntry(off);
                    assertTrue(after == null || off + BestFitAllocator.roundUp(size) <= after.getKey());
                    live.put(off, size);
                    liveOffsets.add(off);
                }
            } else {
                int pick = rnd.nextInt(liveOffsets.size());
                long off = liveOffsets.get(pick);
                liveOffsets.set(pick, liveOffsets.get(liveOffsets.size() - 1));
                liveOffsets.remove(liveOffsets.size() - 1);
                a.free(off, live.remove(off));
            }
            if (i % 10_000 == 0) {
                long used = live.values().stream().mapToLong(BestFitAllocator::roundUp).sum();
                assertEquals(capacity - used, a.freeBytes());
            }
        }
        live.forEach(a::free);
        assertEquals(capacity, a.freeBytes());
        assertEquals(1, a.freeExtents());
    }

    @Test
    void cachedSmallExtentsNeverMakeALargeAllocationFail() {
        long capacity = 1 << 20;
        BestFitAllocator a = new BestFitAllocator(capacity);
        List<Long> offs = new ArrayList<>();
        long off;
        while ((off = a.allocate(64)) >= 0) {
            offs.add(off);
        }
        assertEquals(capacity / 64, offs.size());
        for (long o : offs) {
            a.free(o, 64);
        }
        assertEquals(capacity, a.freeBytes());
        assertEquals(0, a.allocate(capacity), "the whole pool in one piece, once the small stacks are flushed");
        a.free(0, capacity);
        long small = a.allocate(64);
        a.free(small, 64);
        assertEquals(small, a.allocate(64), "a freed small extent is reused first (LIFO)");
    }
}
