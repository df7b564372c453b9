package io.vineyard.ctl;

import java.io.PrintWriter;

/**
 * A one-line progress bar on stderr, redrawn in place with a carriage return: only when stderr is a
 * terminal, so logs and pipelines never see it. At most one redraw per percent.
 */
final class Progress implements AutoCloseable {
    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final String label;
    private final long totalBytes;
    private final boolean shown;
    private int lastPercent = -1;
    private final long startNs = System.nanoTime();
    private long lastDrawNs;

    private Progress(PrintWriter err, String label, long totalBytes, boolean shown) {
        this.err = err;
        this.label = label;
        this.totalBytes = totalBytes;
        this.shown = shown;
    }

    /** A bar for {@code totalBytes}, drawn when {@code shown} (normally {@link Terminal#stderrIsTerminal()}). */
    static Progress on(PrintWriter err, String label, long totalBytes, boolean shown) {
        return new Progress(err, label, totalBytes, shown);
    }

    /** Reports that {@code doneBytes} of the total are done. */
    void update(long doneBytes) {
        if (!shown) {
            return;
        }
        int percent = totalBytes == 0 ? 100 : (int) (doneBytes * 100 / totalBytes);
        if (percent == lastPercent) {
            return;
        }
        lastPercent = percent;
        int filled = percent * WIDTH / 100;
        err.print("\r" + label + " [" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] " + percent + "% of "
                + Bytes.human(totalBytes));
        err.flush();
    }

    /**
     * Reports a transfer's totals so far with its rates (bytes and rows per second), for transfers whose
     * size is not known in advance (a file decoded into the pool): at most ten redraws a second.
     */
    void updateRates(long doneBytes, long rows) {
        if (!shown) {
            return;
        }
        long now = System.nanoTime();
        if (lastPercent >= 0 && now - lastDrawNs < 100_000_000L) {
            return;
        }
        lastPercent = 0;
        lastDrawNs = now;
        double s = Math.max(1e-9, (now - startNs) / 1e9);
        err.print("\r" + label + ": " + Bytes.human(doneBytes) + (rows > 0 ? ", " + rows + " rows" : "") + ", "
                + Bytes.human((long) (doneBytes / s)) + "/s" + (rows > 0 ? ", " + (long) (rows / s) + " rows/s" : "") + "   ");
        err.flush();
    }

    /** Ends the bar's line. */
    @Override
    public void close() {
        if (shown && lastPercent >= 0) {
            err.println();
            err.flush();
        }
    }
}
