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

    IoException(String uri, String position, String message, Throwable cause) {
        super(Status.IO_ERROR, uri + (position == null ? "" : " at " + position) + ": " + message, cause);
        this.uri = uri;
        this.position = position;
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
