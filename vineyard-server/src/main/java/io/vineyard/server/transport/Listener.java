package io.vineyard.server.transport;

import io.vineyard.common.posix.Posix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.IntConsumer;

/**
 * A listening socket (UNIX or TCP) and the thread that accepts on it. Each accepted connection is
 * handed to a callback as its fd.
 */
public final class Listener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Listener.class);
    private final int fd;
    private final String description;
    private final Path unlinkOnClose;
    private final int port;
    private volatile boolean closed;
    private Thread thread;

    private Listener(int fd, String description, Path unlinkOnClose, int port) {
        this.fd = fd;
        this.description = description;
        this.unlinkOnClose = unlinkOnClose;
        this.port = port;
    }

    /**
     * Binds a UNIX socket at {@code path} with mode 0600, in a parent directory created with mode 0700
     * when missing. A stale socket file (nobody listening) is replaced; a live one is an error.
     */
    public static Listener unix(String path) throws IOException {
        Path p = Path.of(path).toAbsolutePath();
        Path parent = p.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            Files.createDirectories(parent, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        if (Files.exists(p)) {
            if (isLive(path)) {
                throw new IOException("another server already listens on " + path);
            }
            Files.deleteIfExists(p);
        }
        int fd = Posix.socket(Posix.AF_UNIX, Posix.SOCK_STREAM);
        if (fd < 0) {
            throw new IOException(Posix.error("socket(AF_UNIX)").getMessage());
        }
        try (Arena arena = Arena.ofConfined()) {
            if (Posix.bind(fd, Posix.unixAddress(arena, path)) != 0) {
                IOException e = new IOException(Posix.error("bind " + path).getMessage());
                Posix.close(fd);
                throw e;
            }
        }
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        if (Posix.listen(fd, 1024) != 0) {
            IOException e = new IOException(Posix.error("listen " + path).getMessage());
            Posix.close(fd);
            throw e;
        }
        return new Listener(fd, "IPC socket " + path, p, 0);
    }

    private static boolean isLive(String path) {
        int probe = Posix.socket(Posix.AF_UNIX, Posix.SOCK_STREAM);
        try (Arena arena = Arena.ofConfined()) {
            return Posix.connect(probe, Posix.unixAddress(arena, path)) == 0;
        } finally {
            Posix.close(probe);
        }
    }

    /**
     * Binds TCP on {@code host} (an IPv4 literal such as {@code 127.0.0.1}, or {@code 0.0.0.0} for every
     * interface) and {@code port} with SO_REUSEADDR; port 0 picks a free port.
     */
    public static Listener tcp(String host, int port) throws IOException {
        InetAddress address = InetAddress.getByName(host);
        if (!(address instanceof Inet4Address)) {
            throw new IOException("cannot listen on " + host + ": only IPv4 addresses are supported");
        }
        int fd = Posix.socket(Posix.AF_INET, Posix.SOCK_STREAM);
        if (fd < 0) {
            throw new IOException(Posix.error("socket(AF_INET)").getMessage());
        }
        Posix.setIntOption(fd, Posix.SOL_SOCKET, Posix.SO_REUSEADDR, 1);
        try (Arena arena = Arena.ofConfined()) {
            if (Posix.bind(fd, Posix.inetAddress(arena, address.getAddress(), port)) != 0) {
                IOException e = new IOException(Posix.error("bind TCP " + host + ":" + port).getMessage());
                Posix.close(fd);
                throw e;
            }
        }
        if (Posix.listen(fd, 1024) != 0) {
            IOException e = new IOException(Posix.error("listen on TCP port " + port).getMessage());
            Posix.close(fd);
            throw e;
        }
        int bound = port != 0 ? port : boundPort(fd);
        return new Listener(fd, "RPC port " + host + ":" + bound, null, bound);
    }

    private static final java.lang.invoke.MethodHandle GETSOCKNAME = java.lang.foreign.Linker.nativeLinker()
            .downcallHandle(java.lang.foreign.Linker.nativeLinker().defaultLookup().find("getsockname").orElseThrow(),
                    java.lang.foreign.FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.ADDRESS));

    private static int boundPort(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(16);
            MemorySegment len = arena.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, 16);
            int rc = (int) GETSOCKNAME.invokeExact(fd, addr, len);
            if (rc != 0) {
                throw new IOException("getsockname failed");
            }
            return ((addr.get(ValueLayout.JAVA_BYTE, 2) & 0xFF) << 8) | (addr.get(ValueLayout.JAVA_BYTE, 3) & 0xFF);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /** The bound TCP port (0 for a UNIX socket). */
    public int port() {
        return port;
    }

    /**
     * Starts the accept thread; {@code onAccept} runs on it for every connection, with the accepted
     * fd (non-blocking; the callback owns it), and should return at once.
     */
    public void start(boolean tcp, IntConsumer onAccept) {
        thread = Thread.ofPlatform().name("vineyard-accept-" + (tcp ? "rpc" : "ipc")).start(() -> {
            while (!closed) {
                int conn = Posix.acceptNonBlocking(fd);
                if (conn < 0) {
                    if (closed) {
                        return;
                    }
                    int errno = Posix.errno();
                    if (errno == Posix.EINTR || errno == Posix.EAGAIN || errno == 103 /* ECONNABORTED */) {
                        continue;
                    }
                    LOG.warn("accept on {} failed: {}", description, Posix.strerror(errno));
                    // EMFILE and friends: back off instead of spinning on the same error
                    java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
                    continue;
                }
                if (tcp) {
                    Posix.setIntOption(conn, Posix.IPPROTO_TCP, Posix.TCP_NODELAY, 1);
                }
                onAccept.accept(conn);
            }
        });
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Posix.shutdown(fd);
        Posix.close(fd);
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (unlinkOnClose != null) {
            try {
                Files.deleteIfExists(unlinkOnClose);
            } catch (IOException e) {
                LOG.warn("cannot remove {}: {}", unlinkOnClose, e.getMessage());
            }
        }
    }
}
