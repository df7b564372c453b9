package io.vineyard.client;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.time.Duration;

/**
 * A wait for a name ended without the name appearing in time. Its status is
 * {@link Status#OBJECT_NOT_EXISTS}, what a get of the name without waiting answers at that point (vineyard
 * has no timeout code). The client that waited stays usable.
 */
public final class WaitTimeoutException extends VineyardException {
    private static final long serialVersionUID = 1L;
    private final transient Duration timeout;

    WaitTimeoutException(String message, Duration timeout, Throwable cause) {
        super(Status.OBJECT_NOT_EXISTS, message, cause);
        this.timeout = timeout;
    }

    /** How long the wait lasted. */
    public Duration timeout() {
        return timeout;
    }
}
