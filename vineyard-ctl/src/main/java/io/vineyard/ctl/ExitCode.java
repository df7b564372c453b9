package io.vineyard.ctl;

/** vineyardctl's exit codes: what a script can tell apart without reading the message. */
final class ExitCode {
    /** Done. */
    static final int OK = 0;
    /** The daemon refused the request, or a local file could not be read or written. */
    static final int FAILED = 1;
    /** Bad command line: unknown verb or flag, missing argument, malformed id (picocli's usage code). */
    static final int USAGE = 2;
    /** No daemon answers on the socket. */
    static final int CONNECTION = 3;
    /** The object, name or blob does not exist. */
    static final int NOT_FOUND = 4;

    private ExitCode() {
    }
}
