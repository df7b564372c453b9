package io.vineyard.server.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.LayoutBase;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * One log line: {@code 2026-12-01T23:12:31.915Z DEBUG [vineyard-conn-1] ClientConnection: message},
 * then the stack trace if any. Control characters of the message (which may quote what a client
 * sent) are written as {@code ?}, so a line never carries a terminal escape code.
 *
 * <p>Written out rather than a logback {@code PatternLayout}: the pattern machinery defines some 70
 * classes at start-up (a third of a cold daemon's start), for a format that never changes.
 */
final class LogLineLayout extends LayoutBase<ILoggingEvent> {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", Locale.ROOT).withZone(ZoneId.systemDefault());

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder sb = new StringBuilder(160);
        TIME.formatTo(Instant.ofEpochMilli(event.getTimeStamp()), sb);
        String level = event.getLevel().levelStr;
        sb.append(' ').append(level);
        for (int i = level.length(); i < 5; i++) {
            sb.append(' ');
        }
        String logger = event.getLoggerName();
        sb.append(" [").append(event.getThreadName()).append("] ").append(logger, logger.lastIndexOf('.') + 1, logger.length())
                .append(": ");
        appendPrintable(sb, event.getFormattedMessage());
        sb.append('\n');
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            sb.append(ThrowableProxyUtil.asString(thrown)).append('\n');
        }
        return sb.toString();
    }

    /** Appends {@code text} with every control character (escape, newline, ...) as '?'. */
    static void appendPrintable(StringBuilder sb, String text) {
        if (text == null) {
            sb.append("null");
            return;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            sb.append(Character.isISOControl(c) ? '?' : c);
        }
    }
}
