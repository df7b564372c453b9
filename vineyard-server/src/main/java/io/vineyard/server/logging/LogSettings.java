package io.vineyard.server.logging;

import java.nio.file.Path;

/**
 * Where the daemon's log goes and at which level, from glog's flags (the ones vineyard's deployments
 * pass) mapped onto ours. Every line carries a timestamp and a level; lines go to stderr, and to a file
 * in {@code --log_dir} when one is given.
 *
 * <pre>
 *   glog flag              our meaning
 *   --v=N                  N &gt;= 1: debug (every abnormal disconnect, every refused request), N &gt;= 2: trace
 *   --minloglevel=N        0 (default): as --v says; 1: warnings and errors only; 2: errors only; 3: nothing
 *   --log_dir=DIR          also write vineyardd.HOST.USER.log.YYYYMMDD-HHMMSS.PID in DIR (created if missing)
 *   --logtostderr          stderr only, no file even with --log_dir
 *   --alsologtostderr      with --log_dir: every line to stderr too (the default, see below)
 *   --stderrthreshold=N    with --log_dir: stderr gets only lines of severity N and up (0 info, 1 warning,
 *                          2 error, 3 none); vineyardd sets 0 before parsing flags, so 0 is the default here too
 *   VINEYARDD_DEBUG=1      as --v=1 (kept from earlier releases)
 * </pre>
 *
 * @param level           the lowest level logged at all
 * @param logDir          the directory of the log file, or null for stderr only
 * @param stderrThreshold with a log file, the lowest level also written to stderr
 */
public record LogSettings(Level level, Path logDir, Level stderrThreshold) {
    /** Log levels, lowest first. */
    public enum Level {
        TRACE, DEBUG, INFO, WARN, ERROR, OFF
    }

    /** stderr only, at info ({@code VINEYARDD_DEBUG=1}: debug). */
    public static LogSettings defaults() {
        return new LogSettings(debugFromEnvironment() ? Level.DEBUG : Level.INFO, null, Level.TRACE);
    }

    /** {@code VINEYARDD_DEBUG=1} in the environment. */
    public static boolean debugFromEnvironment() {
        return "1".equals(System.getenv("VINEYARDD_DEBUG"));
    }

    /**
     * Maps glog's flags onto settings (see the table above); a null argument is a flag not given.
     *
     * @throws IllegalArgumentException for a value glog would refuse
     */
    public static LogSettings fromGlogFlags(Integer v, Integer minLogLevel, boolean logToStderr, boolean alsoLogToStderr,
                                            String logDir, Integer stderrThreshold) {
        if (v != null && v < 0) {
            throw new IllegalArgumentException("--v must be 0 or more, got " + v);
        }
        Level level;
        if (minLogLevel != null && minLogLevel > 0) {
            level = severity("minloglevel", minLogLevel);
        } else if (v != null && v >= 2) {
            level = Level.TRACE;
        } else if (v != null && v >= 1 || debugFromEnvironment()) {
            level = Level.DEBUG;
        } else {
            level = Level.INFO;
        }
        if (minLogLevel != null) {
            severity("minloglevel", minLogLevel); // range check for 0 too
        }
        Path dir = logDir == null || logDir.isEmpty() || logToStderr ? null : Path.of(logDir);
        Level toStderr = stderrThreshold == null || alsoLogToStderr ? Level.TRACE : severity("stderrthreshold", stderrThreshold);
        return new LogSettings(level, dir, toStderr);
    }

    /** glog's severities: 0 INFO (which includes verbose logging), 1 WARNING, 2 ERROR, 3 FATAL. */
    private static Level severity(String flag, int n) {
        return switch (n) {
            case 0 -> Level.TRACE;
            case 1 -> Level.WARN;
            case 2 -> Level.ERROR;
            case 3 -> Level.OFF; // FATAL: this daemon logs nothing at that severity
            default -> throw new IllegalArgumentException("--" + flag + " must be 0 (INFO), 1 (WARNING), 2 (ERROR) or 3 (FATAL), got " + n);
        };
    }

    /** For the start-up line: {@code info}, {@code debug, file /var/log/vineyardd..., stderr >= error}. */
    public String describe() {
        String s = level.name().toLowerCase(java.util.Locale.ROOT);
        if (logDir != null) {
            s += ", files in " + logDir + (stderrThreshold == Level.TRACE ? "" : ", stderr >= "
                    + stderrThreshold.name().toLowerCase(java.util.Locale.ROOT));
        }
        return s;
    }
}
