package io.vineyard.server;

import io.vineyard.common.posix.Posix;
import io.vineyard.common.wire.FrameSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pays the daemon's one-time cost of passing a file descriptor right after start, in the background
 * ({@code --warmup}, on by default), instead of in a client's first {@code create_buffer} or get.
 *
 * <p>The first {@code sendmsg(SCM_RIGHTS)} of a JVM links its native call (method handle and lambda
 * form set-up, with or without the AOT cache): a fresh daemon's first client waited 4-12 ms for the fd
 * that followed its first {@code create_buffer_reply}, against 0.05 ms afterwards. The warm-up passes
 * fds over a private socket pair through the same code ({@link FrameSocket#sendFd}, as connections
 * pass fds, and {@link FrameSocket#receiveFd}); it touches none of the
 * daemon's state (no pool memory, objects, connections or request counts), so clients cannot see it.
 *
 * <p>A fuller warm-up was measured first: a private throwaway daemon served put/get/delete cycles of
 * every request type. It cost 0.2-0.6 s of CPU at start and bought nothing beyond the fd stall (the
 * first {@code create_buffer} of a large blob still took 2-11 ms, which is not cold code).
 */
final class StartupWarmup {
    private static final Logger LOG = LoggerFactory.getLogger(StartupWarmup.class);
    /** fds passed each way: the first links the calls, the next ones run the linked code once more. */
    private static final int ROUNDS = 3;

    private StartupWarmup() {
    }

    /** Starts the warm-up on a background thread (nothing with {@code --nowarmup}). */
    static void startInBackground(ServerConfig config) {
        if (config.warmup()) {
            Thread.ofPlatform().daemon().name("vineyard-warmup").start(StartupWarmup::runQuietly);
        }
    }

    private static void runQuietly() {
        long t0 = System.nanoTime();
        try {
            run();
            LOG.debug("warm-up: {} fds passed in {} us", ROUNDS, (System.nanoTime() - t0) / 1000);
        } catch (RuntimeException | Error e) {
            // only ever a slower first fd: the daemon itself is unaffected
            LOG.debug("warm-up stopped: {}", e.toString());
        }
    }

    /** Passes {@link #ROUNDS} fds from one end of a socket pair to the other, as a connection does. */
    static void run() {
        int[] pair = Posix.socketpair();
        if (pair == null) {
            throw Posix.error("socketpair");
        }
        FrameSocket daemonSide = null;
        FrameSocket clientSide = null;
        try {
            daemonSide = FrameSocket.confined(pair[0], false);
            clientSide = FrameSocket.confined(pair[1], true);
            for (int i = 0; i < ROUNDS; i++) {
                daemonSide.sendFd(pair[0]);
                int received = clientSide.receiveFd(); // throws when the byte came without an fd
                if (Posix.close(received) != 0) {
                    throw new IllegalStateException("the warm-up's passed fd was not received intact");
                }
            }
        } finally {
            closeSide(daemonSide, pair[0]);
            closeSide(clientSide, pair[1]);
        }
    }

    private static void closeSide(FrameSocket socket, int fd) {
        if (socket != null) {
            socket.close();
        } else {
            Posix.close(fd);
        }
    }
}
