package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One connection's mappings of the daemon's store files, keyed by the {@code store_fd} the wire names
 * them by. Each file is mapped whole, in an arena of its own, so a view used after its mapping went
 * fails with an {@link IllegalStateException} instead of touching unmapped memory.
 *
 * <p>Two kinds of file, told apart by the payloads that describe their blobs:
 * <ul>
 *   <li>the pool (blobs are slices of it): mapped until {@link #close()};</li>
 *   <li>a disk file (a {@code create_disk_buffer} blob is the whole file: {@code data_offset} 0 and
 *       {@code data_size == map_size}): mapped while a {@link Lease} on it is open, unmapped when the last
 *       one is released. Its fd is kept, so a later get of a blob in the same file maps it again (the
 *       daemon passes each fd once per connection); it is closed when a reply passes a new fd for the
 *       key, or at {@link #close()}.</li>
 * </ul>
 * When a reply passes a new fd for a key already mapped, the key names the new file from then on; the
 * old mapping is retired: unmapped (and its fd closed) once its last lease is released.
 *
 * <p>Thread-safe: every method holds this object's monitor.
 */
final class StoreMappings implements AutoCloseable {
    /** One store file: its fd here, and its mapping while mapped. */
    private static final class Mapping {
        final int key;
        final int localFd;
        final long mapSize;
        final boolean diskFile;
        Arena arena;
        MemorySegment segment;
        int leases;
        boolean retired;

        Mapping(int key, int localFd, long mapSize, boolean diskFile) {
            this.key = key;
            this.localFd = localFd;
            this.mapSize = mapSize;
            this.diskFile = diskFile;
        }
    }

    /** A view's hold on the mapping it lies in; closing it more than once has no further effect. */
    interface Lease extends AutoCloseable {
        /** The leased bytes. */
        MemorySegment segment();

        @Override
        void close();
    }

    private final Map<Integer, Mapping> byKey = new HashMap<>();
    /** Replaced mappings still leased. */
    private final List<Mapping> retired = new ArrayList<>();
    private boolean closed;
    /** Map with {@code MAP_POPULATE} ({@link Prefault#MAP_POPULATE}). */
    private boolean populate;

    /** Maps files from now on with {@code MAP_POPULATE} or not. */
    synchronized void populate(boolean on) {
        this.populate = on;
    }

    /** True when {@code payload} describes a blob that is a whole disk file (not a slice of the pool). */
    static boolean isDiskFile(JsonNode payload) {
        long mapSize = payload.path("map_size").asLong(-1);
        return payload.path("data_offset").asLong(-1) == 0 && mapSize > 0
                && payload.path("data_size").asLong(-2) == mapSize;
    }

    /**
     * Takes {@code localFd}, received for {@code key}, and maps it (when {@code mapSize > 0}). A mapping
     * the key had is retired.
     */
    synchronized void add(int key, int localFd, long mapSize, boolean diskFile) {
        if (closed) {
            Posix.close(localFd);
            return;
        }
        Mapping old = byKey.remove(key);
        if (old != null) {
            old.retired = true;
            if (old.leases > 0) {
                retired.add(old);
            } else {
                unmap(old);
                Posix.close(old.localFd);
            }
        }
        Mapping m = new Mapping(key, localFd, mapSize, diskFile);
        byKey.put(key, m);
        if (mapSize > 0) {
            map(m);
        }
    }

    private void map(Mapping m) {
        // the pool's memfd is exactly map_size bytes (limit + 8-byte gap), a disk buffer's file is
        // map_size bytes: either way the whole file is mapped
        long length = m.mapSize;
        int flags = Posix.MAP_SHARED | (populate ? Posix.MAP_POPULATE : 0);
        MemorySegment p = Posix.mmap(length, Posix.PROT_READ | Posix.PROT_WRITE, flags, m.localFd, 0);
        if (p.equals(MemorySegment.NULL)) {
            throw new VineyardException(Status.IO_ERROR, Posix.error("mmap of store fd " + m.key).getMessage());
        }
        if (!m.diskFile) {
            Posix.adviseHugePages(p.reinterpret(length), length); // where the machine allows it for shared memory
        }
        Arena arena = Arena.ofShared();
        m.arena = arena;
        m.segment = p.reinterpret(length, arena, s -> Posix.munmap(s, length));
    }

    private static void unmap(Mapping m) {
        if (m.arena != null) {
            m.arena.close();
            m.arena = null;
            m.segment = null;
        }
    }

    /** The mapped segments (the pool's and the disk files' mapped now). */
    synchronized List<MemorySegment> all() {
        List<MemorySegment> out = new ArrayList<>();
        byKey.values().stream().map(m -> m.segment).filter(Objects::nonNull).forEach(out::add);
        retired.stream().map(m -> m.segment).filter(Objects::nonNull).forEach(out::add);
        return out;
    }

    /** The whole mapping of {@code key}, or null when it is not mapped now. */
    synchronized MemorySegment whole(int key) {
        Mapping m = byKey.get(key);
        return m == null ? null : m.segment;
    }

    /**
     * A slice of {@code key}'s mapping, mapping the file again when it was unmapped. Raw access: the slice
     * of a disk file stays valid until the file's last lease is released (or {@link #close()}).
     */
    synchronized MemorySegment segment(int key, long offset, long size) {
        Mapping m = byKey.get(key);
        if (m == null || m.mapSize <= 0) {
            throw new VineyardException(Status.INVALID, "store fd " + key + " was never received on this connection");
        }
        if (m.segment == null) {
            map(m);
        }
        if (offset < 0 || size < 0 || offset + size > m.segment.byteSize()) {
            throw new VineyardException(Status.INVALID, "blob [" + offset + ", +" + size + ") lies outside store fd "
                    + key + " of " + m.segment.byteSize() + " bytes");
        }
        return m.segment.asSlice(offset, size);
    }

    /** Like {@link #segment}, holding the mapping until the lease is closed. */
    synchronized Lease lease(int key, long offset, long size) {
        MemorySegment slice = segment(key, offset, size);
        Mapping m = byKey.get(key);
        m.leases++;
        return new MappingLease(m, slice);
    }

    private final class MappingLease implements Lease {
        private final Mapping mapping;
        private final MemorySegment slice;
        private boolean released;   // under the StoreMappings monitor

        MappingLease(Mapping mapping, MemorySegment slice) {
            this.mapping = mapping;
            this.slice = slice;
        }

        @Override
        public MemorySegment segment() {
            return slice;
        }

        @Override
        public void close() {
            synchronized (StoreMappings.this) {
                if (!released) {
                    released = true;
                    release(mapping);
                }
            }
        }
    }

    private void release(Mapping m) {
        m.leases--;
        if (m.leases > 0 || closed) {
            return;
        }
        if (m.retired) {
            retired.remove(m);
            unmap(m);
            Posix.close(m.localFd);
        } else if (m.diskFile) {
            unmap(m);
        }
    }

    /** Number of files mapped now (for tests). */
    synchronized int mappedCount() {
        return all().size();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Mapping> every = new ArrayList<>(byKey.values());
        every.addAll(retired);
        for (Mapping m : every) {
            unmap(m);
            Posix.close(m.localFd);
        }
        byKey.clear();
        retired.clear();
    }
}
