package io.vineyard.server.memory;

import io.vineyard.common.posix.Posix;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SharedMemoryPoolTest {
    /**
     * Shutdown may race a connection thread that is inside read(2) into the pool: the pool must not
     * be unmapped under it, and any access after the close is an exception, never a SIGSEGV.
     */
    @Test
    void thePoolIsNeverUnmappedUnderASystemCallAndALateAccessIsAnException() throws Exception {
        SharedMemoryPool pool = SharedMemoryPool.create(1 << 20, false);
        int[] pair = Posix.socketpair();
        assertNotNull(pair);
        MemorySegment target = pool.segment().asSlice(4096, 8);
        CompletableFuture<Long> reader = new CompletableFuture<>();
        Thread.ofPlatform().name("pool-reader").start(() -> reader.complete(Posix.read(pair[0], target, 8)));
        awaitSleepingInKernel("pool-reader");
        assertFalse(pool.tryClose(), "a read into the pool is in progress: the pool must stay mapped");
        assertFalse(pool.isClosed());
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment msg = a.allocate(8);
            msg.set(ValueLayout.JAVA_LONG, 0, 42L);
            assertEquals(8, Posix.send(pair[1], msg, 8));
        }
        assertEquals(8L, reader.get(10, TimeUnit.SECONDS));
        assertEquals(42L, target.get(ValueLayout.JAVA_LONG, 0), "the bytes landed in the still-mapped pool");
        assertTrue(pool.tryClose(), "closes once nobody is inside a system call on it");
        assertThrows(IllegalStateException.class, () -> target.get(ValueLayout.JAVA_LONG, 0));
        Posix.close(pair[0]);
        Posix.close(pair[1]);
    }

    /** Waits until the native thread named {@code name} sleeps in the kernel (Linux /proc). */
    private static void awaitSleepingInKernel(String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (var tasks = Files.list(Path.of("/proc/self/task"))) {
                for (Path t : (Iterable<Path>) tasks::iterator) {
                    String comm = Files.readString(t.resolve("comm")).trim();
                    String stat = Files.readString(t.resolve("stat"));
                    if (comm.equals(name) && stat.substring(stat.lastIndexOf(')') + 2).startsWith("S")) {
                        return;
                    }
                }
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("thread " + name + " never blocked in read(2)");
    }
}
