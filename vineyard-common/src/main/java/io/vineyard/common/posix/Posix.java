package io.vineyard.common.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few Linux system calls the JDK does not offer, as FFM downcalls: UNIX and TCP sockets on raw
 * file descriptors, {@code SCM_RIGHTS} fd passing, {@code memfd_create}, {@code mmap}/{@code madvise}.
 *
 * <p>Every call returns the raw result; negative results carry {@code errno}, which the caller reads
 * with {@link #errno()} on the same thread right after the call (it is captured by the downcall, so
 * the JVM cannot clobber it). Layouts are those of x86_64/aarch64 glibc:
 *
 * <pre>
 *   struct msghdr  (56 B)            struct cmsghdr + one int (CMSG_SPACE(4) = 24 B)
 *   0  void*   msg_name              0  size_t cmsg_len   = CMSG_LEN(4) = 20
 *   8  u32     msg_namelen           8  int    cmsg_level = SOL_SOCKET (1)
 *   16 iovec*  msg_iov               12 int    cmsg_type  = SCM_RIGHTS (1)
 *   24 size_t  msg_iovlen            16 int    fd
 *   32 void*   msg_control
 *   40 size_t  msg_controllen        struct iovec (16 B): 0 void* base, 8 size_t len
 *   48 int     msg_flags             struct sockaddr_un (110 B): 0 u16 family, 2 char path[108]
 * </pre>
 */
public final class Posix {
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int EPOLLIN = 0x1;
    public static final int EPOLLOUT = 0x4;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLONESHOT = 1 << 30;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    /** {@code struct epoll_event} on x86_64 (packed): {@code u32 events} at 0, {@code u64 data} at 4. */
    public static final int EPOLL_EVENT_SIZE = 12;
    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_RCVTIMEO = 20;
    public static final int SCM_RIGHTS = 1;
    public static final int IPPROTO_TCP = 6;
    public static final int TCP_NODELAY = 1;
    /** Linux: acknowledge received segments at once (not sticky: the kernel may leave the mode). */
    public static final int TCP_QUICKACK = 12;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int SHUT_RDWR = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOENT = 2;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_PRIVATE = 2;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_POPULATE = 0x8000;
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_REMOVE = 9;
    public static final int MADV_POPULATE_WRITE = 23;
    public static final int MADV_POPULATE_READ = 22;
    public static final int MADV_HUGEPAGE = 14;
    /** The base page size of x86-64 and arm64 Linux; madvise ranges are aligned to it. */
    public static final long PAGE_SIZE = 4096;
    public static final int MFD_CLOEXEC = 1;
    public static final int POLLIN = 0x1;
    public static final int POLLHUP = 0x10;
    public static final int POLLRDHUP = 0x2000;
    public static final int FALLOC_FL_KEEP_SIZE = 1;
    public static final int FALLOC_FL_PUNCH_HOLE = 2;

    /** Size of {@code struct sockaddr_un}. */
    public static final int SOCKADDR_UN_SIZE = 110;
    /** Longest UNIX socket path, excluding the terminating NUL. */
    public static final int MAX_SOCKET_PATH = 107;
    private static final int SOCKADDR_IN_SIZE = 16;
    private static final int MSGHDR_SIZE = 56;
    private static final int MSG_IOV = 16;
    private static final int MSG_IOVLEN = 24;
    private static final int MSG_CONTROL = 32;
    private static final int MSG_CONTROLLEN = 40;
    private static final int MSG_FLAGS = 48;
    private static final int IOVEC_SIZE = 16;
    private static final int CMSG_LEN_ONE_FD = 20;
    private static final int CMSG_SPACE_ONE_FD = 24;
    private static final int CMSG_LEVEL = 8;
    private static final int CMSG_TYPE = 12;
    private static final int CMSG_DATA = 16;
    private static final int MSG_CTRUNC = 0x8;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CAPTURE_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

    private static final MethodHandle SOCKET = fn("socket", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle EPOLL_CREATE1 = fn("epoll_create1", JAVA_INT, JAVA_INT);
    private static final MethodHandle EPOLL_CTL = fn("epoll_ctl", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
    private static final MethodHandle EPOLL_WAIT = fn("epoll_wait", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle SOCKETPAIR = fn("socketpair", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
    private static final MethodHandle BIND = fn("bind", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle LISTEN = fn("listen", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle ACCEPT4 = fn("accept4", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
    private static final MethodHandle CONNECT = fn("connect", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle CLOSE = fn("close", JAVA_INT, JAVA_INT);
    private static final MethodHandle SHUTDOWN = fn("shutdown", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle READ = fn("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle SEND = fn("send", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle SENDMSG = fn("sendmsg", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle RECVMSG = fn("recvmsg", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle SETSOCKOPT =
            fn("setsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle GETSOCKOPT =
            fn("getsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle POLL = fn("poll", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle MEMFD_CREATE = fn("memfd_create", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle FTRUNCATE = fn("ftruncate", JAVA_INT, JAVA_INT, JAVA_LONG);
    private static final MethodHandle FALLOCATE = fn("fallocate", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle MMAP =
            fn("mmap", ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
    private static final MethodHandle MUNMAP = fn("munmap", JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle MADVISE = fn("madvise", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle MINCORE = fn("mincore", JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS);
    private static final MethodHandle SETPRIORITY = fn("setpriority", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle OPEN = fn("open", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LIBC.find("strerror").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Posix() {
    }

    private static MethodHandle fn(String name, ValueLayout ret, ValueLayout... args) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, FunctionDescriptor.of(ret, args),
                Linker.Option.captureCallState("errno"));
    }

    private static MemorySegment state() {
        return CAPTURE_STATE.get();
    }

    /** The errno captured by the last call of this class on this thread. */
    public static int errno() {
        return (int) ERRNO.get(state(), 0L);
    }

    /** The text of an errno value, as {@code strerror} gives it. */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** Throws an {@link PosixException} naming {@code what} with the errno of the last call. */
    public static PosixException error(String what) {
        int e = errno();
        return new PosixException(what + ": " + strerror(e) + " (errno " + e + ")", e);
    }

    public static int socket(int domain, int type) {
        try {
            return (int) SOCKET.invokeExact(state(), domain, type | SOCK_CLOEXEC, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A connected pair of UNIX stream sockets, or null (errno set) when socketpair fails. */
    public static int[] socketpair() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int rc = (int) SOCKETPAIR.invokeExact(state(), AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
            return rc != 0 ? null : new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Fills a {@code sockaddr_un} for {@code path} into a new segment of {@code arena}. */
    public static MemorySegment unixAddress(Arena arena, String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_SOCKET_PATH) {
            throw new IllegalArgumentException("socket path longer than " + MAX_SOCKET_PATH
                    + " bytes: " + path);
        }
        MemorySegment addr = arena.allocate(SOCKADDR_UN_SIZE);
        addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, addr, ValueLayout.JAVA_BYTE, 2, bytes.length);
        return addr;
    }

    /** Fills a {@code sockaddr_in} for an IPv4 address (4 bytes, network order) and port. */
    public static MemorySegment inetAddress(Arena arena, byte[] ipv4, int port) {
        MemorySegment addr = arena.allocate(SOCKADDR_IN_SIZE);
        addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET);
        addr.set(ValueLayout.JAVA_BYTE, 2, (byte) (port >>> 8));
        addr.set(ValueLayout.JAVA_BYTE, 3, (byte) port);
        MemorySegment.copy(ipv4, 0, addr, ValueLayout.JAVA_BYTE, 4, 4);
        return addr;
    }

    public static int bind(int fd, MemorySegment addr) {
        try {
            return (int) BIND.invokeExact(state(), fd, addr, (int) addr.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int listen(int fd, int backlog) {
        try {
            return (int) LISTEN.invokeExact(state(), fd, backlog);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** accept4 with SOCK_NONBLOCK: the connection's reads and writes return EAGAIN instead of blocking. */
    public static int acceptNonBlocking(int fd) {
        try {
            return (int) ACCEPT4.invokeExact(state(), fd, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int epollCreate() {
        try {
            return (int) EPOLL_CREATE1.invokeExact(state(), SOCK_CLOEXEC);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_ctl with an event whose data is {@code fd}; {@code event} is a scratch segment of 12 bytes. */
    public static int epollCtl(int epfd, int op, int fd, int events, MemorySegment event) {
        event.set(JAVA_INT, 0, events);
        event.set(ValueLayout.JAVA_LONG_UNALIGNED, 4, fd);
        try {
            return (int) EPOLL_CTL.invokeExact(state(), epfd, op, fd, event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_wait into {@code events} (room for {@code max} events); the count, or -1 (errno set). */
    public static int epollWait(int epfd, MemorySegment events, int max, int timeoutMs) {
        try {
            return (int) EPOLL_WAIT.invokeExact(state(), epfd, events, max, timeoutMs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int accept(int fd) {
        try {
            return (int) ACCEPT4.invokeExact(state(), fd, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int connect(int fd, MemorySegment addr) {
        try {
            return (int) CONNECT.invokeExact(state(), fd, addr, (int) addr.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(state(), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int shutdown(int fd) {
        try {
            return (int) SHUTDOWN.invokeExact(state(), fd, SHUT_RDWR);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code read(2)}; retries on EINTR. */
    public static long read(int fd, MemorySegment buf, long len) {
        try {
            while (true) {
                long n = (long) READ.invokeExact(state(), fd, buf, len);
                if (n >= 0 || errno() != EINTR) {
                    return n;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code send(2)} with {@code MSG_NOSIGNAL} (a dead peer is an error, not a SIGPIPE); retries on EINTR. */
    public static long send(int fd, MemorySegment buf, long len) {
        try {
            while (true) {
                long n = (long) SEND.invokeExact(state(), fd, buf, len, MSG_NOSIGNAL);
                if (n >= 0 || errno() != EINTR) {
                    return n;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Sends one byte {@code tag} with one fd attached as {@code SCM_RIGHTS}, the way vineyard's
     * {@code send_fd} does. Returns the result of {@code sendmsg}.
     */
    public static long sendFd(int socket, int fdToSend, byte tag, Arena scratch) {
        MemorySegment msg = scratch.allocate(MSGHDR_SIZE, 8);
        MemorySegment iov = scratch.allocate(IOVEC_SIZE, 8);
        MemorySegment data = scratch.allocate(1);
        MemorySegment control = scratch.allocate(CMSG_SPACE_ONE_FD, 8);
        data.set(ValueLayout.JAVA_BYTE, 0, tag);
        iov.set(ADDRESS, 0, data);
        iov.set(JAVA_LONG, 8, 1L);
        control.set(JAVA_LONG, 0, CMSG_LEN_ONE_FD);
        control.set(JAVA_INT, CMSG_LEVEL, SOL_SOCKET);
        control.set(JAVA_INT, CMSG_TYPE, SCM_RIGHTS);
        control.set(JAVA_INT, CMSG_DATA, fdToSend);
        msg.set(ADDRESS, MSG_IOV, iov);
        msg.set(JAVA_LONG, MSG_IOVLEN, 1L);
        msg.set(ADDRESS, MSG_CONTROL, control);
        msg.set(JAVA_LONG, MSG_CONTROLLEN, CMSG_SPACE_ONE_FD);
        try {
            while (true) {
                long n = (long) SENDMSG.invokeExact(state(), socket, msg, MSG_NOSIGNAL);
                if (n >= 0 || errno() != EINTR) {
                    return n;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Receives one byte with at most one fd attached. Returns the received fd, {@code -1} when the
     * byte came without an fd, or throws when the peer closed or the call failed.
     */
    public static int recvFd(int socket, Arena scratch) {
        MemorySegment msg = scratch.allocate(MSGHDR_SIZE, 8);
        MemorySegment iov = scratch.allocate(IOVEC_SIZE, 8);
        MemorySegment data = scratch.allocate(1);
        MemorySegment control = scratch.allocate(CMSG_SPACE_ONE_FD, 8);
        iov.set(ADDRESS, 0, data);
        iov.set(JAVA_LONG, 8, 1L);
        msg.set(ADDRESS, MSG_IOV, iov);
        msg.set(JAVA_LONG, MSG_IOVLEN, 1L);
        msg.set(ADDRESS, MSG_CONTROL, control);
        msg.set(JAVA_LONG, MSG_CONTROLLEN, CMSG_SPACE_ONE_FD);
        long n;
        try {
            do {
                n = (long) RECVMSG.invokeExact(state(), socket, msg, 0);
            } while (n < 0 && errno() == EINTR);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (n < 0) {
            throw error("recvmsg");
        }
        if (n == 0) {
            throw new PosixException("recvmsg: connection closed while waiting for an fd", 0);
        }
        if ((msg.get(JAVA_INT, MSG_FLAGS) & MSG_CTRUNC) != 0) {
            throw new PosixException("recvmsg: control data truncated (more than one fd?)", 0);
        }
        long controlLen = msg.get(JAVA_LONG, MSG_CONTROLLEN);
        if (controlLen < CMSG_LEN_ONE_FD || control.get(JAVA_INT, CMSG_LEVEL) != SOL_SOCKET
                || control.get(JAVA_INT, CMSG_TYPE) != SCM_RIGHTS) {
            return -1;
        }
        return control.get(JAVA_INT, CMSG_DATA);
    }

    public static int setIntOption(int fd, int level, int option, int value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, value);
            return (int) SETSOCKOPT.invokeExact(state(), fd, level, option, v, 4);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Reads an int socket option, or returns -1 (errno set) when getsockopt fails. */
    public static int getIntOption(int fd, int level, int option) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            MemorySegment len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 4);
            int rc = (int) GETSOCKOPT.invokeExact(state(), fd, level, option, v, len);
            return rc != 0 ? -1 : v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sets a receive timeout on a socket ({@code SO_RCVTIMEO}); 0 means none. */
    public static int setReceiveTimeout(int fd, long timeoutMs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tv = arena.allocate(16, 8);
            tv.set(JAVA_LONG, 0, timeoutMs / 1000);
            tv.set(JAVA_LONG, 8, (timeoutMs % 1000) * 1000);
            return (int) SETSOCKOPT.invokeExact(state(), fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Polls one fd for {@code events}; returns the revents (0 on timeout), or -1 on error.
     */
    public static int poll(int fd, int events, int timeoutMs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, (short) events);
            int n = (int) POLL.invokeExact(state(), pfd, 1L, timeoutMs);
            if (n < 0) {
                return -1;
            }
            return n == 0 ? 0 : pfd.get(ValueLayout.JAVA_SHORT, 6) & 0xFFFF;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Polls with a caller-provided {@code struct pollfd} (8 bytes: int fd, short events, short revents),
     * allocation-free for spin loops; returns poll's result and leaves revents in the segment.
     */
    public static int poll(MemorySegment pollfd, int timeoutMs) {
        try {
            return (int) POLL.invokeExact(state(), pollfd, 1L, timeoutMs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int memfdCreate(String name) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) MEMFD_CREATE.invokeExact(state(), arena.allocateFrom(name), MFD_CLOEXEC);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code open(2)} with a mode for created files. */
    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(state(), arena.allocateFrom(path), flags, mode);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int ftruncate(int fd, long size) {
        try {
            return (int) FTRUNCATE.invokeExact(state(), fd, size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int fallocate(int fd, int mode, long offset, long len) {
        try {
            return (int) FALLOCATE.invokeExact(state(), fd, mode, offset, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Maps {@code size} bytes of {@code fd}; returns a zero-length segment at the address, or NULL on failure. */
    public static MemorySegment mmap(long size, int prot, int flags, int fd, long offset) {
        try {
            MemorySegment p = (MemorySegment) MMAP.invokeExact(state(), MemorySegment.NULL, size, prot, flags, fd, offset);
            return p.address() == -1L ? MemorySegment.NULL : p;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int munmap(MemorySegment addr, long size) {
        try {
            return (int) MUNMAP.invokeExact(state(), addr, size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Sets the nice value of the calling thread ({@code setpriority(PRIO_PROCESS, 0, nice)}: on Linux
     * each thread has its own). Java's thread priorities do nothing on Linux by default; a background
     * thread that must not compete with requests lowers itself this way. Returns 0, or -1 with {@link #errno()}.
     */
    public static int niceThisThread(int nice) {
        try {
            return (int) SETPRIORITY.invokeExact(state(), 0, 0, nice);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int madvise(MemorySegment addr, long size, int advice) {
        try {
            return (int) MADVISE.invokeExact(state(), addr, size, advice);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code madvise(MADV_POPULATE_WRITE)} over the pages that hold {@code [address, address + length)}:
     * the kernel allocates and maps them writable in one call, instead of one page fault per page at
     * first touch (Linux 5.14+). Data is not changed, so pages shared with a neighbour are safe to
     * include. Returns 0, or -1 with {@link #errno()} ({@code EINVAL} before 5.14).
     */
    public static int populateWrite(long address, long length) {
        long start = address & -PAGE_SIZE;
        long end = (address + length + PAGE_SIZE - 1) & -PAGE_SIZE;
        return madvise(MemorySegment.ofAddress(start), end - start, MADV_POPULATE_WRITE);
    }

    /**
     * Maps the pages that hold {@code [address, address + length)} of a shared file mapping writable, as
     * {@link #populateWrite}, but fast for pages the file already holds: {@code mincore} tells which
     * are in its page cache, and those come in by {@code MADV_POPULATE_READ}, which maps them 16 at a
     * time (the kernel's fault-around) with writable entries in a shared writable mapping of tmpfs or a
     * memfd: about 3x faster than write faults for them, measured here (a daemon's pre-faulted warm
     * part). The others (holes) take {@code MADV_POPULATE_WRITE}. Returns 0, or -1 with {@link #errno()}.
     */
    public static int populateShared(long address, long length) {
        long start = address & -PAGE_SIZE;
        long end = (address + length + PAGE_SIZE - 1) & -PAGE_SIZE;
        long pages = (end - start) / PAGE_SIZE;
        if (pages == 0) {
            return 0;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vec = arena.allocate(pages);
            int rc = (int) MINCORE.invokeExact(state(), MemorySegment.ofAddress(start), end - start, vec);
            if (rc != 0) {
                return populateWrite(start, end - start);
            }
            long runStart = 0;
            boolean resident = (vec.get(ValueLayout.JAVA_BYTE, 0) & 1) != 0;
            for (long i = 1; i <= pages; i++) {
                boolean r = i < pages && (vec.get(ValueLayout.JAVA_BYTE, i) & 1) != 0;
                if (i == pages || r != resident) {
                    int advice = resident ? MADV_POPULATE_READ : MADV_POPULATE_WRITE;
                    if (madvise(MemorySegment.ofAddress(start + runStart * PAGE_SIZE), (i - runStart) * PAGE_SIZE, advice) != 0) {
                        return -1;
                    }
                    runStart = i;
                    resident = r;
                }
            }
            return 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code madvise(MADV_HUGEPAGE)} over a shared mapping of the pool: where the machine lets shared
     * memory use transparent huge pages on request ({@code /sys/kernel/mm/transparent_hugepage/shmem_enabled}
     * is {@code advise} or {@code within_size}), the mapping's fresh pages come 2 MiB at a time, one fault
     * each instead of 512; where it is {@code never} (the kernel's default) nothing changes. Errors
     * (a kernel without THP) are ignored: the mapping works the same, with small pages.
     */
    public static void adviseHugePages(MemorySegment mapping, long length) {
        madvise(mapping, length, MADV_HUGEPAGE);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
