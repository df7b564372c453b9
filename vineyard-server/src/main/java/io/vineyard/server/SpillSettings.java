package io.vineyard.server;

import java.nio.file.Path;

/**
 * Spilling to disk ({@code --spill_path}, {@code --spill_lower_rate}, {@code --spill_upper_rate}):
 * when pool usage reaches {@code upperRate} of the limit, the least recently used sealed blobs that
 * no connection holds are written to files under {@code path} and their memory freed, down to
 * {@code lowerRate} of the limit.
 *
 * @param path      the spill directory, or null when spilling is off
 * @param lowerRate fraction of the pool spilling brings usage down to (vineyard's default 0.3)
 * @param upperRate fraction of the pool at which spilling starts (vineyard's default 0.8)
 */
public record SpillSettings(Path path, double lowerRate, double upperRate) {
    /** Spilling off, with vineyard's default watermarks. */
    public static final SpillSettings OFF = new SpillSettings(null, 0.3, 0.8);

    public SpillSettings {
        if (!(lowerRate >= 0 && lowerRate <= upperRate && upperRate <= 1)) {
            throw new IllegalArgumentException("--spill_lower_rate (" + lowerRate + ") and --spill_upper_rate ("
                    + upperRate + ") must satisfy 0 <= lower <= upper <= 1");
        }
    }

    public boolean enabled() {
        return path != null;
    }

    /** Usage in bytes at which spilling starts, for a pool of {@code limitBytes}. */
    public long upperBytes(long limitBytes) {
        return (long) (limitBytes * upperRate);
    }

    /** Usage in bytes spilling brings the pool down to. */
    public long lowerBytes(long limitBytes) {
        return (long) (limitBytes * lowerRate);
    }

    /** Parses a rate flag: a fraction from 0 to 1. */
    static double parseRate(String flag, String value) {
        try {
            double r = Double.parseDouble(value.trim());
            if (r >= 0 && r <= 1) {
                return r;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("--" + flag + " must be a fraction from 0 to 1, like 0.8, not '" + value + "'");
    }
}
