package io.vineyard.server.daemon;

import io.vineyard.common.ObjectIds;
import io.vineyard.server.ServerConfig;
import io.vineyard.server.memory.SharedMemoryPool;
import io.vineyard.server.meta.MetaStore;
import io.vineyard.server.store.BlobStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The end-of-I/O signal that spills, reloads and punches give, as a session's waiters see it. */
class SpillerSignalTest {
    private final SharedMemoryPool pool = SharedMemoryPool.create(16 << 20, false);

    @AfterEach
    void close() {
        pool.close();
    }

    @Test
    void anEndOfIoOnTheRootReachesASessionsWaiters() throws Exception {
        ServerConfig config = ServerConfig.parse(new String[] {"--socket=/tmp/spiller-signal-test.sock"});
        ObjectIds ids = new ObjectIds(0, System::currentTimeMillis);
        BlobStore blobs = new BlobStore(pool, ids);
        Waits waits = new Waits();
        DaemonContext root = new DaemonContext(config, blobs, new MetaStore(blobs, ids, 0, System::currentTimeMillis, waits),
                waits, null, 0, "localhost", null);
        BlobStore sessionBlobs = new BlobStore(blobs, 1 << 20, "session S1");
        Waits sessionWaits = new Waits();
        DaemonContext session = new DaemonContext(root, config.forSession("/tmp/spiller-signal-test.sock.S1", 1 << 20), sessionBlobs,
                new MetaStore(sessionBlobs, ids, 0, System::currentTimeMillis, sessionWaits), sessionWaits, new SessionScope(1, false));

        long seen = session.spiller().generation();
        // the session's waiter, bounded far beyond the 100 ms recheck so that only the signal ends it early
        CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> session.spiller().awaitIo(seen, TimeUnit.MINUTES.toNanos(5)));
        root.spiller().ioDone(); // a punch after the root's lock ended (the dirty decay's, a trimming delete's)
        waiter.get(60, TimeUnit.SECONDS); // without the shared signal it sleeps out its 5 minutes: a timeout here
        assertEquals(seen + 1, session.spiller().generation(), "the session's spiller saw the root's end of I/O");
    }
}
