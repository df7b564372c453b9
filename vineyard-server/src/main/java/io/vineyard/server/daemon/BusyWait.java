package io.vineyard.server.daemon;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon's rule for busy-waiting between requests (one per daemon: two daemons in one JVM do not
 * share it). After a reply, the connection whose request the daemon read last may spin up to
 * {@code --spin_us} for its next request instead of blocking, while no other request is being
 * served and a CPU is spare; a spin that finds nothing backs off (up to 64 requests).
 */
public final class BusyWait {
    private final long spinNanos;
    private final int maxSpinners;
    /** Threads spinning for their next request right now. */
    private final AtomicInteger spinners = new AtomicInteger();
    /** Threads handling a request right now. */
    private final AtomicInteger busy = new AtomicInteger();
    /** The connection whose request the daemon read last: only it may spin. */
    private volatile Object lastServed;

    public BusyWait(long spinMicros, int cpus) {
        this.spinNanos = spinMicros * 1000L;
        this.maxSpinners = Math.max(0, cpus - 1);
    }

    public long spinNanos() {
        return spinNanos;
    }

    /** True when {@code conn} may spin now; pair with {@link #endSpin()}. */
    public boolean beginSpin(Object conn) {
        if (spinNanos <= 0 || lastServed != conn || busy.get() != 0) {
            return false;
        }
        if (spinners.incrementAndGet() <= maxSpinners) {
            return true;
        }
        spinners.decrementAndGet();
        return false;
    }

    public void endSpin() {
        spinners.decrementAndGet();
    }

    /** True while no request is being served (a spin stops as soon as one is). */
    public boolean idle() {
        return busy.get() == 0;
    }

    /** A request of {@code conn} starts being served. */
    public void beginRequest(Object conn) {
        lastServed = conn;
        busy.incrementAndGet();
    }

    public void endRequest() {
        busy.decrementAndGet();
    }
}
