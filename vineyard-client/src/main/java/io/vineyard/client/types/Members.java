package io.vineyard.client.types;

import io.vineyard.client.Hold;
import io.vineyard.client.registry.ResolveContext;

import java.util.List;
import java.util.function.Function;

/**
 * Ownership of resolved values for the resolvers of composite types: each resolved member that views
 * shared memory holds a reference to the got object, so a resolver that fails half-way must close the
 * members it resolved, or the daemon keeps their blobs for as long as the client lives.
 */
final class Members {
    private Members() {
    }

    /**
     * Closes every {@link AutoCloseable} of {@code values}, all of them even when some fail; the first
     * failure is thrown (unchecked), the others suppressed in it.
     */
    static void closeAll(List<?> values) {
        RuntimeException first = null;
        for (Object v : values) {
            try {
                closeOne(v);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Closes the values resolved before {@code failure}, adding close failures to it; returns it. */
    static RuntimeException closeAfter(RuntimeException failure, List<?> resolved) {
        try {
            closeAll(resolved);
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
        return failure;
    }

    /**
     * Makes a value that keeps views of the object's blobs: retains the object for it, and releases the
     * reference again when making the value fails.
     */
    static <T> T holding(ResolveContext ctx, Function<Hold, T> make) {
        Hold hold = ctx.object().retain();
        try {
            return make.apply(hold);
        } catch (RuntimeException e) {
            hold.close();
            throw e;
        }
    }

    private static void closeOne(Object v) {
        if (v instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("closing " + v + " failed", e);
            }
        }
    }
}
