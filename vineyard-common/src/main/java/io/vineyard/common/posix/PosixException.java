package io.vineyard.common.posix;

/** A failed system call, with its errno. */
public final class PosixException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public PosixException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The errno of the failed call, or 0 when the failure was not a call's. */
    public int errno() {
        return errno;
    }
}
