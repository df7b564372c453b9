package io.vineyard.server.transport;

import io.vineyard.common.posix.Posix;
import io.vineyard.common.wire.FrameException;
import io.vineyard.common.wire.IoWait;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Parks the daemon's connection threads (virtual threads) on non-blocking sockets: a thread whose
 * read or write would block arms a one-shot epoll registration for its fd and parks; one platform
 * thread waits in {@code epoll_wait} and unparks the owner of each fd that became ready. A connection
 * on a platform thread ({@link PlatformLane}) waits in {@code poll(2)} on its fd instead.
 *
 * <p>Why: a connection thread that blocks in {@code read(2)} must be a platform thread, and starting
 * one costs 0.2-0.5 ms here, which made a burst of 1,000 connecting clients wait up to half a second
 * for their threads; a virtual thread starts in microseconds. The extra hop (epoll thread, then the
 * connection's carrier) is paid only when a request does not arrive within the busy-wait window.
 */
public final class Poller implements IoWait, AutoCloseable {
    private static final int MAX_EVENTS = 256;

    private final int epfd;
    private final Map<Integer, Thread> parked = new ConcurrentHashMap<>();
    /** fds already added to the epoll set (re-armed with MOD afterwards). */
    private final Map<Integer, Boolean> registered = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean closed;

    public Poller() {
        epfd = Posix.epollCreate();
        if (epfd < 0) {
            throw Posix.error("epoll_create1");
        }
        thread = Thread.ofPlatform().daemon(true).name("vineyard-poller").start(this::run);
    }

    @Override
    public void readable(int fd) {
        await(fd, Posix.EPOLLIN | Posix.EPOLLRDHUP);
    }

    @Override
    public void writable(int fd) {
        await(fd, Posix.EPOLLOUT);
    }

    private void await(int fd, int events) {
        if (closed) {
            throw new FrameException("the daemon is stopping");
        }
        if (!Thread.currentThread().isVirtual()) {
            blockInPoll(fd, events);
            return;
        }
        parked.put(fd, Thread.currentThread());
        int op = registered.putIfAbsent(fd, Boolean.TRUE) == null ? Posix.EPOLL_CTL_ADD : Posix.EPOLL_CTL_MOD;
        int rc;
        try (Arena a = Arena.ofConfined()) {
            rc = Posix.epollCtl(epfd, op, fd, events | Posix.EPOLLONESHOT, a.allocate(Posix.EPOLL_EVENT_SIZE));
        }
        if (rc != 0) {
            parked.remove(fd);
            throw Posix.error("epoll_ctl for fd " + fd);
        }
        // a readiness that came before the park leaves its permit: park then returns at once
        LockSupport.park(this);
        parked.remove(fd, Thread.currentThread());
    }

    /**
     * A platform thread ({@link PlatformLane}) waits in {@code poll(2)} on its own fd: the kernel wakes
     * it directly. The timeout only lets it see {@link #close()}; a shutdown of the socket wakes it at once.
     */
    private void blockInPoll(int fd, int events) {
        while (true) {
            int revents = Posix.poll(fd, events, 500);
            if (revents != 0) {
                return; // ready, or an error the next read or write reports
            }
            if (closed) {
                throw new FrameException("the daemon is stopping");
            }
        }
    }

    /** Forgets {@code fd} before it is closed (its number may be reused by the next connection). */
    public void forget(int fd) {
        if (registered.remove(fd) != null) {
            try (Arena a = Arena.ofConfined()) {
                Posix.epollCtl(epfd, Posix.EPOLL_CTL_DEL, fd, 0, a.allocate(Posix.EPOLL_EVENT_SIZE));
            }
        }
        parked.remove(fd);
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = arena.allocate((long) Posix.EPOLL_EVENT_SIZE * MAX_EVENTS, 8);
            while (!closed) {
                int n = Posix.epollWait(epfd, events, MAX_EVENTS, 500);
                for (int i = 0; i < n; i++) {
                    int fd = (int) events.get(ValueLayout.JAVA_LONG_UNALIGNED, (long) i * Posix.EPOLL_EVENT_SIZE + 4);
                    Thread t = parked.get(fd);
                    if (t != null) {
                        LockSupport.unpark(t);
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Thread t : parked.values()) {
            LockSupport.unpark(t);
        }
        Posix.close(epfd);
    }
}
