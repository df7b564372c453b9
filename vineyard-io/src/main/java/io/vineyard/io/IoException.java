package io.vineyard.io;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

/**
 * A read, write, serialize or deserialize that failed on its source or target: vineyard's {@code IOError}
 * status, the URI it was about and, where the failure has one, the position in the file ({@code "row 3"},
 * {@code "footer"}, {@code "byte 4096"}). When one is thrown nothing the operation made is left in the
 * daemon. The subclasses say why.
 */
public class IoException extends VineyardException {
    private final String uri;
    private final String position;
    private final String detail;

    IoException(String uri, String position, String message, Throwable cause) {
        super(Status.IO_ERROR, uri + (position == null ? "" : " at " + position) + ": " + message, cause);
        this.uri = uri;
        this.position = position;
        this.detail = message;
    }

    /** The same failure about {@code other} (a staged local copy's error named by its source file). */
    IoException at(String other) {
        IoException e = switch (this) {
            case NotFound n -> new NotFound(other, detail, getCause());
            case Malformed m -> new Malformed(other, position, detail, getCause());
            case AccessDenied a -> new AccessDenied(other, detail, getCause());
            case Unreachable u -> new Unreachable(other, detail, getCause());
            case Unsupported u -> new Unsupported(other, detail);
            default -> new IoException(other, position, detail, getCause());
        };
        for (Throwable s : getSuppressed()) {
            e.addSuppressed(s);
        }
        return e;
    }

    /** The file, object or directory the operation was about. */
    public String uri() {
        return uri;
    }

    /** Where in the file it failed ({@code "row 3"}, {@code "footer"}), or null when it has no position. */
    public String position() {
        return position;
    }

    /** The source does not exist (a missing file, bucket, key or directory). */
    public static final class NotFound extends IoException {
        NotFound(String uri, String message, Throwable cause) {
            super(uri, null, message, cause);
        }
    }

    /** The source exists but is not what its format says: a corrupt footer, a CSV row with the wrong field count. */
    public static final class Malformed extends IoException {
        Malformed(String uri, String position, String message, Throwable cause) {
            super(uri, position, message, cause);
        }
    }

    /** The storage refused the credentials or the request (403, wrong access or secret key). */
    public static final class AccessDenied extends IoException {
        AccessDenied(String uri, String message, Throwable cause) {
            super(uri, null, message, cause);
        }
    }

    /** The storage could not be reached (connection refused, unknown host, timeout). */
    public static final class Unreachable extends IoException {
        Unreachable(String uri, String message, Throwable cause) {
            super(uri, null, message, cause);
        }
    }

    /** An option, format, scheme or type this module does not handle. */
    public static final class Unsupported extends IoException {
        Unsupported(String uri, String message) {
            super(uri, null, message, null);
        }
    }
}
