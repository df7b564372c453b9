package io.vineyard.client;

import io.vineyard.client.meta.ObjectMeta;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A daemon (in its own JVM) and a client of it for each test, and the daemon's invariant checked
 * after it: once the client closed and every object is deleted, pool usage is back to what it was
 * before the test.
 *
 * <p>As an instance field ({@code @RegisterExtension final TestDaemon vineyard = new TestDaemon("--size=64Mi");})
 * each test gets a fresh daemon. As a static field ({@code @RegisterExtension static final TestDaemon ...})
 * the class's tests share one daemon, started before the first and stopped after the last, and each
 * still gets its own client and the check after it: for classes whose tests need no fresh daemon, as
 * a daemon's start is most of a small test's time.
 */
public final class TestDaemon implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    private final String[] args;
    private DaemonProcess daemon;
    private boolean perClass;
    private IpcClient client;
    private long baseline;

    public TestDaemon(String... args) {
        this.args = args;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        perClass = true;
        daemon = DaemonProcess.start(args);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        daemon.close();
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (!perClass) {
            daemon = DaemonProcess.start(args);
        }
        client = IpcClient.connect(daemon.socket());
        baseline = client.status().memoryUsage();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        try {
            client.close();
            try (IpcClient check = IpcClient.connect(daemon.socket())) {
                for (ObjectMeta m : check.list("*", 10_000)) {
                    if (!m.isBlob()) {
                        check.delete(m.id());
                    }
                }
            }
            assertUsageReturnsTo(baseline, "after the test, its client closed and every object deleted");
        } finally {
            if (!perClass) {
                daemon.close();
            }
        }
    }

    public DaemonProcess daemon() {
        return daemon;
    }

    /** The test's client (closed after the test). */
    public IpcClient client() {
        return client;
    }

    /** Pool usage before the test. */
    public long baseline() {
        return baseline;
    }

    /**
     * Polls the daemon over fresh connections, at most 10 s, until the pool bytes not free for reuse
     * (visible blobs plus deleted ones still held: {@link DaemonProcess#heldBytes()}) are {@code expected}.
     */
    public void assertUsageReturnsTo(long expected, String when) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        long seen;
        while ((seen = daemon.heldBytes()) != expected && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(expected, seen, "pool usage " + when);
    }
}
