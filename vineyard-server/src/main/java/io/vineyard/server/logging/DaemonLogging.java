package io.vineyard.server.logging;

import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Applies {@link LogSettings} to the daemon's logging framework (SLF4J over logback). Before this
 * runs, {@link DefaultLogConfigurator} has set logback up with the defaults (stderr, info).
 *
 * <p>Design note. SLF4J with logback was chosen over {@code java.util.logging} because the daemon's
 * dependencies (the JDK's HTTP server through {@code System.Logger}, Arrow in the SDK's processes)
 * and users' deployments already speak SLF4J, and logback gives levels, timestamps, files and
 * thresholds per output without a hand-written formatter. It is configured in code (no XML parsing at
 * start-up, and {@link LogLineLayout} instead of a pattern); {@code -Dlogback.configurationFile=FILE} still overrides everything. When another SLF4J
 * backend is on the classpath (the daemon embedded in an application that has its own), the settings
 * are left to that application.
 *
 * <p>Lines never carry terminal escape codes: the pattern has no colours, and control characters in
 * a message (which may quote what a client sent) are printed as {@code ?}.
 */
public final class DaemonLogging {
    private DaemonLogging() {
    }

    /**
     * Sets the level and outputs; creates {@code --log_dir} when missing.
     *
     * @return the log file, or null when logging to stderr only
     * @throws IllegalArgumentException when the log directory cannot be created or written
     */
    public static Path apply(LogSettings settings) {
        Path file = null;
        if (settings.logDir() != null) {
            file = settings.logDir().resolve(fileName());
            try {
                Files.createDirectories(settings.logDir());
            } catch (IOException e) {
                throw new IllegalArgumentException("--log_dir " + settings.logDir() + " cannot be created: " + e.getMessage(), e);
            }
            if (!Files.isWritable(settings.logDir())) {
                throw new IllegalArgumentException("--log_dir " + settings.logDir() + " is not writable");
            }
        }
        if (isLogback() && !userConfigured()) {
            LogbackSetup.apply(settings, file);
        }
        return file;
    }

    /** glog's file name, without the severity: {@code vineyardd.HOST.USER.log.YYYYMMDD-HHMMSS.PID}. */
    private static String fileName() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        String user = System.getProperty("user.name", "unknown");
        String time = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
        return "vineyardd." + host + "." + user + ".log." + time + "." + ProcessHandle.current().pid();
    }

    /** {@code -Dlogback.configurationFile=FILE}: the user's logback configuration replaces ours. */
    static boolean userConfigured() {
        return System.getProperty("logback.configurationFile") != null;
    }

    /** Whether SLF4J is bound to logback (checked by name: logback may be absent from the classpath). */
    static boolean isLogback() {
        return LoggerFactory.getILoggerFactory().getClass().getName().equals("ch.qos.logback.classic.LoggerContext");
    }
}
