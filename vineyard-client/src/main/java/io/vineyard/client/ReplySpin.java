package io.vineyard.client;

import io.vineyard.common.wire.FrameSocket;

/**
 * One connection's busy-wait for its replies. A reply usually comes within tens of microseconds: waiting
 * for it busy saves the wake-up that blocking costs (20-40 us across cores here). A spin that finds
 * nothing means the daemon is slow or the CPU is busy, so the connection backs off (skips the next 1, 2,
 * 4 ... 64 spins); a spin that finds the reply resets the back-off.
 *
 * <p>All of this state belongs to one connection and is touched only under its request lock: two clients
 * in one JVM never share it, so one client's slow replies (or a long request in flight) never stop
 * another from spinning. Not thread-safe on its own.
 */
final class ReplySpin {
    /** The longest spin accepted, 10 ms. */
    static final long MAX_SPIN_US = 10_000;
    private static final int MAX_BACKOFF = 64;

    private final long spinNanos;
    /** Replies to wait for without spinning first, and the current back-off. */
    private int skipSpins;
    private int backoff;
    private long attempts;
    private long found;

    /** Spins up to {@code spinUs} microseconds per reply (clamped to [0, 10 ms]); 0 never spins. */
    ReplySpin(long spinUs) {
        this.spinNanos = Math.max(0, Math.min(MAX_SPIN_US, spinUs)) * 1000;
    }

    /**
     * The default spin for a new connection: system property {@code vineyard.spin_us}, else
     * {@code VINEYARD_SPIN_US}, else 50 us; none on a single CPU (the daemon needs it to answer).
     */
    static long defaultSpinUs() {
        if (Runtime.getRuntime().availableProcessors() < 2) {
            return 0;
        }
        String v = System.getProperty("vineyard.spin_us", System.getenv("VINEYARD_SPIN_US"));
        try {
            return v == null ? 50 : Math.max(0, Math.min(MAX_SPIN_US, Long.parseLong(v.trim())));
        } catch (NumberFormatException e) {
            return 50;
        }
    }

    /** Before a blocking read of a reply on {@code socket}: spins for it unless backing off. */
    void beforeRead(FrameSocket socket) {
        if (spinNanos == 0) {
            return;
        }
        if (skipSpins > 0) {
            skipSpins--;
            return;
        }
        attempts++;
        if (socket.spinUntilReadable(spinNanos, () -> true)) {
            found++;
            backoff = 0;
        } else {
            backoff = Math.min(MAX_BACKOFF, Math.max(1, backoff * 2));
        }
        skipSpins = backoff;
    }

    /** A snapshot of this connection's spin state. */
    Stats stats() {
        return new Stats(spinNanos / 1000, attempts, found, backoff);
    }

    /**
     * @param spinUs   the spin per reply
     * @param attempts spins started
     * @param found    spins that found the reply
     * @param backoff  the current back-off: spins skipped after the last one that found nothing
     */
    record Stats(long spinUs, long attempts, long found, int backoff) {
    }
}
