package io.vineyard.io;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Arrow C++'s errors (a {@link RuntimeException} out of the JNI layer, its message Arrow's status text)
 * turned into this module's typed errors, naming the file and, where Arrow says it, the position.
 */
final class ArrowFailures {
    private static final Pattern CSV_ROW = Pattern.compile("Row #(\\d+)");
    private static final Pattern FILE = Pattern.compile("(?:file|source|path)[ :]+'?([^' ,]+\\.[A-Za-z0-9]+)'?");

    private ArrowFailures() {
    }

    /** The typed error for {@code e}, raised while reading or writing {@code uri}. */
    static IoException classify(String uri, RuntimeException e) {
        if (e instanceof IoException io) {
            return io;
        }
        String msg = String.valueOf(e.getMessage());
        String lower = msg.toLowerCase(Locale.ROOT);
        String where = fileOf(uri, msg);
        if (lower.contains("access denied") || lower.contains("invalidaccesskeyid") || lower.contains("signaturedoesnotmatch")
                || lower.contains("forbidden") || lower.contains("http status 403") || lower.contains("access_denied")) {
            return new IoException.AccessDenied(where, "the storage refused the credentials: " + msg, e);
        }
        if (lower.contains("couldn't connect") || lower.contains("connection refused") || lower.contains("curlcode: 7")
                || lower.contains("could not resolve host") || lower.contains("network_connection") || lower.contains("timed out")) {
            return new IoException.Unreachable(where, "the storage is not reachable: " + msg, e);
        }
        Matcher row = CSV_ROW.matcher(msg);
        if (lower.contains("csv parse error") || lower.contains("csv conversion error") || row.find()) {
            return new IoException.Malformed(where, row.find(0) ? "row " + row.group(1) : null, msg, e);
        }
        if (lower.contains("parquet magic bytes") || lower.contains("footer") || lower.contains("couldn't deserialize thrift")) {
            return new IoException.Malformed(where, "footer", msg, e);
        }
        if (lower.contains("no such file") || lower.contains("path does not exist") || lower.contains("nosuchkey")
                || lower.contains("nosuchbucket") || lower.contains("file not found") || lower.contains("does not exist")) {
            return new IoException.NotFound(where, msg, e);
        }
        if (lower.contains("orc") && (lower.contains("malformed") || lower.contains("parseerror") || lower.contains("invalid"))) {
            return new IoException.Malformed(where, null, msg, e);
        }
        if (lower.contains("invalid") || lower.contains("corrupt") || lower.contains("unexpected end")) {
            return new IoException.Malformed(where, null, msg, e);
        }
        return new IoException(where, null, msg, e);
    }

    /** The file Arrow's message names inside a directory or glob read, else {@code uri}. */
    private static String fileOf(String uri, String msg) {
        Matcher m = FILE.matcher(msg);
        return m.find() ? m.group(1) : uri;
    }
}
