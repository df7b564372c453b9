package io.vineyard.common;

/**
 * The root of every error vineyard-java raises: it carries vineyard's {@link Status} code, so a
 * daemon-side failure becomes an error reply with the right code and a client-side one can be
 * matched on the code a real vineyardd would have sent.
 */
public class VineyardException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Status status;

    public VineyardException(Status status, String message) {
        super(message);
        this.status = status;
    }

    public VineyardException(Status status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public Status status() {
        return status;
    }

    /** The exception of the typed subclass that matches {@code status}. */
    public static VineyardException of(Status status, String message) {
        return switch (status) {
            case INVALID, USER_INPUT_ERROR -> new Invalid(message);
            case OBJECT_NOT_EXISTS, META_TREE_SUBTREE_NOT_EXISTS -> new ObjectNotExists(status, message);
            case OBJECT_NOT_SEALED -> new ObjectNotSealed(message);
            case NOT_ENOUGH_MEMORY -> new NotEnoughMemory(message);
            case NOT_IMPLEMENTED -> new NotImplemented(message);
            case CONNECTION_ERROR, CONNECTION_FAILED, IO_ERROR -> new ConnectionError(status, message);
            default -> new VineyardException(status, message);
        };
    }

    /** A malformed or ill-typed request ({@link Status#INVALID}). */
    public static final class Invalid extends VineyardException {
        private static final long serialVersionUID = 1L;

        public Invalid(String message) {
            super(Status.INVALID, message);
        }
    }

    /** An id or name that does not exist. */
    public static final class ObjectNotExists extends VineyardException {
        private static final long serialVersionUID = 1L;

        public ObjectNotExists(String message) {
            super(Status.OBJECT_NOT_EXISTS, message);
        }

        public ObjectNotExists(Status status, String message) {
            super(status, message);
        }
    }

    /** A blob read before it was sealed. */
    public static final class ObjectNotSealed extends VineyardException {
        private static final long serialVersionUID = 1L;

        public ObjectNotSealed(String message) {
            super(Status.OBJECT_NOT_SEALED, message);
        }
    }

    /** The pool cannot hold the requested allocation. */
    public static final class NotEnoughMemory extends VineyardException {
        private static final long serialVersionUID = 1L;

        public NotEnoughMemory(String message) {
            super(Status.NOT_ENOUGH_MEMORY, message);
        }
    }

    /** A request this daemon does not implement (yet). */
    public static final class NotImplemented extends VineyardException {
        private static final long serialVersionUID = 1L;

        public NotImplemented(String message) {
            super(Status.NOT_IMPLEMENTED, message);
        }
    }

    /** The connection to the daemon failed or was refused. */
    public static final class ConnectionError extends VineyardException {
        private static final long serialVersionUID = 1L;

        public ConnectionError(Status status, String message) {
            super(status, message);
        }

        public ConnectionError(String message, Throwable cause) {
            super(Status.CONNECTION_ERROR, message, cause);
        }
    }
}
