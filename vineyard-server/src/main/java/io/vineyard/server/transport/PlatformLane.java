package io.vineyard.server.transport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Up to {@code --platform_connections} connections served on platform threads that block in
 * {@code poll(2)} on their own socket between requests, the others on virtual threads parked in the
 * {@link Poller}.
 *
 * <p>Why: a request that arrives after an idle spell wakes a virtual thread in two hops (the epoll
 * thread, then a carrier thread of the scheduler); on this VM each hop to an idle CPU costs
 * 0.1-0.4 ms, so a get after 10 ms of idle took 0.4 ms against 0.05 ms hot. A platform thread blocked
 * in {@code poll} is woken by the kernel directly: one hop. Platform threads cost 0.2-0.5 ms to start,
 * which a burst of connecting clients must not wait for, so the lane never starts a thread on the
 * accept path: a connection goes to an idle lane thread if one waits, and otherwise to a virtual
 * thread at once while one more lane thread is started in the background for the next connection.
 * Lane threads serve one connection after another and are kept.
 */
public final class PlatformLane implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PlatformLane.class);

    private final int max;
    private final LinkedTransferQueue<Runnable> handoff = new LinkedTransferQueue<>();
    private final AtomicInteger started = new AtomicInteger();
    private final AtomicBoolean growing = new AtomicBoolean();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    /**
     * @param max      lane threads at most (0: every connection on a virtual thread)
     * @param prestart lane threads started now, in the background (at most {@code max})
     */
    public PlatformLane(int max, int prestart) {
        if (max < 0) {
            throw new IllegalArgumentException("--platform_connections must be >= 0, got " + max);
        }
        this.max = max;
        int n = Math.min(max, Math.max(0, prestart));
        if (n > 0) {
            growing.set(true);
            Thread.ofVirtual().name("vineyard-lane-start").start(() -> {
                try {
                    for (int i = 0; i < n && !closed; i++) {
                        startThread();
                    }
                } finally {
                    growing.set(false);
                }
            });
        }
    }

    /**
     * Runs {@code task} on an idle lane thread and returns true, or returns false at once when none
     * waits (the caller runs it elsewhere); then a new lane thread is started in the background if
     * the lane has room.
     */
    public boolean offer(Runnable task) {
        if (closed || max == 0) {
            return false;
        }
        if (handoff.tryTransfer(task)) {
            return true;
        }
        if (started.get() < max && growing.compareAndSet(false, true)) {
            Thread.ofVirtual().name("vineyard-lane-start").start(() -> {
                try {
                    startThread();
                } finally {
                    growing.set(false);
                }
            });
        }
        return false;
    }

    /** Lane threads started so far. */
    public int threads() {
        return started.get();
    }

    /** Lane threads waiting for a connection now. */
    public int idle() {
        return handoff.getWaitingConsumerCount();
    }

    private void startThread() {
        int n = started.incrementAndGet();
        if (n > max) {
            started.decrementAndGet();
            return;
        }
        threads.add(Thread.ofPlatform().daemon(true).name("vineyard-lane-" + n).start(this::work));
    }

    private void work() {
        String idleName = Thread.currentThread().getName();
        while (!closed) {
            Runnable task;
            try {
                task = handoff.take();
            } catch (InterruptedException e) {
                return; // close()
            }
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                LOG.error("a connection on {} failed", idleName, e);
            } finally {
                Thread.currentThread().setName(idleName);
            }
        }
    }

    /** Ends the idle lane threads; busy ones end with their connections. */
    @Override
    public void close() {
        closed = true;
        for (Thread t : threads) {
            t.interrupt();
        }
    }
}
