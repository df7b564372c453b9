package io.vineyard.server.transport;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlatformLaneTest {
    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void aTaskGoesToAnIdlePlatformThreadAndTheLaneGrowsOnlyInTheBackground() throws Exception {
        try (PlatformLane lane = new PlatformLane(2, 0)) {
            // nobody idle yet: refused at once, and one thread is started for the next task
            assertFalse(lane.offer(() -> { }));
            await(() -> lane.idle() == 1, "the lane's first thread");
            BlockingQueue<Thread> ranOn = new ArrayBlockingQueue<>(1);
            assertTrue(lane.offer(() -> ranOn.add(Thread.currentThread())));
            Thread t = ranOn.poll(10, TimeUnit.SECONDS);
            assertFalse(t.isVirtual(), "a lane task runs on a platform thread");
            assertTrue(t.getName().startsWith("vineyard-lane-"), t.getName());
        }
    }

    @Test
    void theLaneNeverHasMoreThreadsThanItsLimitAndBusyThreadsTakeNothing() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (PlatformLane lane = new PlatformLane(2, 2)) {
            await(() -> lane.idle() == 2, "the two pre-started threads");
            assertTrue(lane.offer(() -> awaitQuietly(release)));
            assertTrue(lane.offer(() -> awaitQuietly(release)));
            await(() -> lane.idle() == 0, "both threads busy");
            for (int i = 0; i < 5; i++) {
                assertFalse(lane.offer(() -> { }), "a full lane refuses, so the caller starts a virtual thread");
            }
            assertEquals(2, lane.threads());
            release.countDown();
            await(() -> lane.idle() == 2, "both threads back in the lane");
            assertEquals(2, lane.threads(), "threads are reused, not started again");
        }
    }

    @Test
    void aFailingTaskLeavesItsThreadInTheLane() throws Exception {
        try (PlatformLane lane = new PlatformLane(1, 1)) {
            await(() -> lane.idle() == 1, "the pre-started thread");
            assertTrue(lane.offer(() -> {
                throw new IllegalStateException("a connection's bug");
            }));
            await(() -> lane.idle() == 1, "the thread back in the lane");
            CountDownLatch ran = new CountDownLatch(1);
            assertTrue(lane.offer(ran::countDown));
            assertTrue(ran.await(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aLaneOfZeroOrAClosedLaneRefusesEverything() throws Exception {
        try (PlatformLane none = new PlatformLane(0, 4)) {
            assertFalse(none.offer(() -> { }));
            assertEquals(0, none.threads());
        }
        PlatformLane lane = new PlatformLane(1, 1);
        await(() -> lane.idle() == 1, "the pre-started thread");
        lane.close();
        await(() -> lane.idle() == 0, "the idle thread to end at close");
        assertFalse(lane.offer(() -> { }));
        assertThrows(IllegalArgumentException.class, () -> new PlatformLane(-1, 0));
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
