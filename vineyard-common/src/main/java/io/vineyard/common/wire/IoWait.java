package io.vineyard.common.wire;

/**
 * How a thread waits for a non-blocking socket: called when a read or write returned EAGAIN, it
 * returns once the fd may be ready (a spurious return only costs a retry).
 */
public interface IoWait {
    void readable(int fd);

    void writable(int fd);
}
