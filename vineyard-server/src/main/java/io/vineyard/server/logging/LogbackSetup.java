package io.vineyard.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;

/** The logback side of {@link DaemonLogging}: appenders, filters and levels, set in code. */
final class LogbackSetup {
    /** Libraries whose debug lines are noise next to ours: kept at info unless the level is trace. */
    private static final List<String> QUIET_AT_DEBUG = List.of("com.sun.net.httpserver", "io.prometheus", "org.apache.arrow",
            "io.netty", "io.grpc", "io.vertx", "io.etcd.jetcd", // the etcd client's stack
            "java.lang.Runtime"); // the JDK logs every exit with a stack trace at debug

    private LogbackSetup() {
    }

    static void apply(LogSettings settings, Path file) {
        apply((LoggerContext) LoggerFactory.getILoggerFactory(), settings, file);
    }

    /** Replaces the context's configuration: stderr (with a threshold when a file gets everything) and the file. */
    static void apply(LoggerContext context, LogSettings settings, Path file) {
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setTarget("System.err");
        Level threshold = file == null ? Level.TRACE : level(settings.stderrThreshold());
        start(context, stderr, "stderr", threshold);
        root.addAppender(stderr);
        if (file != null) {
            FileAppender<ILoggingEvent> out = new FileAppender<>();
            out.setFile(file.toString());
            out.setAppend(true);
            start(context, out, "file", Level.TRACE);
            root.addAppender(out);
        }
        Level level = level(settings.level());
        root.setLevel(level);
        for (String name : QUIET_AT_DEBUG) {
            // libraries stay at info when the daemon logs debug or trace (null: the root's level)
            context.getLogger(name).setLevel(level.isGreaterOrEqual(Level.INFO) ? null : Level.INFO);
        }
    }

    private static void start(LoggerContext context, OutputStreamAppender<ILoggingEvent> appender, String name,
                              Level threshold) {
        LogLineLayout layout = new LogLineLayout();
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        appender.setContext(context);
        appender.setName(name);
        appender.setEncoder(encoder);
        if (threshold != Level.TRACE) {
            ThresholdFilter filter = new ThresholdFilter();
            filter.setContext(context);
            filter.setLevel(threshold.levelStr);
            filter.start();
            appender.addFilter(filter);
        }
        appender.start();
    }

    private static Level level(LogSettings.Level l) {
        return Level.toLevel(l.name(), Level.INFO);
    }
}
