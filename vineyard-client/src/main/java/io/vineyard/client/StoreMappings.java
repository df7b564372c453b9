package io.vineyard.client;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * One connection's mappings of the daemon's store fds, keyed by the daemon-side fd number (as the wire
 * names them). Each fd is mapped once, whole. Segments handed out belong to a shared arena, so a view used after {@link #close()}
 * fails with an {@link IllegalStateException} instead of touching unmapped memory.
 */
final class StoreMappings implements AutoCloseable {
    private record Mapping(int localFd, MemorySegment segment) {
    }

    private final Arena arena = Arena.ofShared();
    private final Map<Integer, Mapping> byServerFd = new HashMap<>();

    synchronized void add(int serverFd, int localFd, long mapSize) {
        Mapping old = byServerFd.remove(serverFd);
        if (old != null) {
            Posix.close(old.localFd);
        }
        if (mapSize <= 0) {
            byServerFd.put(serverFd, new Mapping(localFd, null));
            return;
        }
        // the pool's memfd is exactly map_size bytes (limit + 8-byte gap), a disk buffer's file is
        // map_size bytes: either way the whole file is mapped
        long length = mapSize;
        MemorySegment p = Posix.mmap(length, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED, localFd, 0);
        if (p.equals(MemorySegment.NULL)) {
            throw new VineyardException(Status.IO_ERROR, Posix.error("mmap of store fd " + serverFd).getMessage());
        }
        long len = length;
        MemorySegment seg = p.reinterpret(len, arena, s -> Posix.munmap(s, len));
        byServerFd.put(serverFd, new Mapping(localFd, seg));
    }

    synchronized java.util.List<MemorySegment> all() {
        return byServerFd.values().stream().map(Mapping::segment).filter(java.util.Objects::nonNull).toList();
    }

    synchronized MemorySegment whole(int serverFd) {
        Mapping m = byServerFd.get(serverFd);
        return m == null ? null : m.segment;
    }

    synchronized MemorySegment segment(int serverFd, long mapSize, long offset, long size) {
        Mapping m = byServerFd.get(serverFd);
        if (m == null || m.segment == null) {
            throw new VineyardException(Status.INVALID, "store fd " + serverFd + " was never received on this connection");
        }
        if (offset < 0 || size < 0 || offset + size > m.segment.byteSize()) {
            throw new VineyardException(Status.INVALID, "blob [" + offset + ", +" + size + ") lies outside store fd "
                    + serverFd + " of " + m.segment.byteSize() + " bytes");
        }
        return m.segment.asSlice(offset, size);
    }

    @Override
    public synchronized void close() {
        for (Mapping m : byServerFd.values()) {
            Posix.close(m.localFd);
        }
        byServerFd.clear();
        arena.close();
    }
}
