package io.vineyard.ctl;

/** A failure a verb reports as one line on stderr, with the exit code it ends the command with. */
final class CtlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    CtlException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
