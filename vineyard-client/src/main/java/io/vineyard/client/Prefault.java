package io.vineyard.client;

import io.vineyard.common.VineyardException;

import java.util.Locale;

/**
 * How an {@link IpcClient} prepares fresh pool memory before it writes a blob. The first write to a
 * page of shared memory takes a page fault in the writer's own mapping (and, in a fresh daemon, the
 * kernel allocates and zeroes the page): one fault per 4 KiB, near 1 GB/s on our machines. Populating
 * the page tables in bulk before the copy avoids the faults. {@code bin/bench-fresh-put} measures each
 * option; the default is {@link #POPULATE_WRITE}.
 */
public enum Prefault {
    /** Nothing: pages fault in one by one as they are first written. */
    NONE,
    /**
     * {@code madvise(MADV_POPULATE_WRITE)} over each new blob of at least {@link #MIN_BYTES} right after
     * {@code create_buffer} (Linux 5.14+; a no-op on older kernels): one system call maps the blob's pages.
     */
    POPULATE_WRITE,
    /**
     * {@code MAP_POPULATE} on the client's mapping of the pool: every page of the pool is mapped when the
     * pool's fd arrives, so connecting (the first request that passes the fd) pays for the whole pool,
     * and the daemon's memory is allocated up front. For measurement; not a good default.
     */
    MAP_POPULATE;

    /** Blobs smaller than this take the few faults they need: the system call would cost about as much. */
    public static final long MIN_BYTES = 256 << 10;

    /** The system property that sets the default ({@code none}, {@code populate_write}, {@code map_populate}). */
    public static final String PROPERTY = "vineyard.prefault";

    /** The default: {@value #PROPERTY} if set, else {@link #POPULATE_WRITE}. */
    public static Prefault defaultPrefault() {
        String p = System.getProperty(PROPERTY);
        if (p == null || p.isBlank()) {
            return POPULATE_WRITE;
        }
        try {
            return valueOf(p.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new VineyardException.Invalid("-D" + PROPERTY + "=" + p + ": expected none, populate_write or map_populate");
        }
    }
}
