package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.Registry;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.VineyardException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A client over the daemon's UNIX socket: blobs are read and written in place in the shared-memory pool,
 * which is mapped once per client (each store fd arrives once, with SCM_RIGHTS). A get is one request and
 * no copy, whatever the object's size.
 *
 * <pre>{@code
 * try (IpcClient client = IpcClient.builder()              // IpcClient.connect(): $VINEYARD_IPC_SOCKET, else the default
 *         .socket("/var/run/vineyard.sock").timeoutMs(30_000).connect()) {
 *     long usedBytes = client.status().memoryUsage();
 * }
 * }</pre>
 */
public final class IpcClient extends AbstractClient {
    private final Set<BlobWriter> unsealed = ConcurrentHashMap.newKeySet();
    private final Prefault prefault;
    private final PagePopulator populator = new PagePopulator();

    private IpcClient(Connector connector, long timeoutMs, long spinUs, Registry registry, boolean extensions,
                      Prefault prefault, int copyThreads) {
        super(connector, timeoutMs, spinUs, registry, extensions);
        this.prefault = prefault;
        this.copyThreads = copyThreads;
        conn.populateMappings(prefault == Prefault.MAP_POPULATE);
    }

    /**
     * Connects to the socket named by {@code VINEYARD_IPC_SOCKET}, else to the daemon's default socket
     * ({@code $XDG_RUNTIME_DIR/vineyard/vineyard.sock}, else {@code ~/.local/vineyard/vineyard.sock}).
     */
    public static IpcClient connect() {
        return builder().connect();
    }

    /** Connects to the daemon's UNIX socket at {@code socketPath}. */
    public static IpcClient connect(String socketPath) {
        return builder().socket(socketPath).connect();
    }

    /** A builder: socket path, timeout, registry. */
    public static Builder builder() {
        return new Builder();
    }

    /** Options of an {@link IpcClient}. */
    public static final class Builder {
        private String socket;
        private long timeoutMs = IpcConnection.DEFAULT_TIMEOUT_MS;
        private long spinUs = ReplySpin.defaultSpinUs();
        private Registry registry;
        private boolean extensions = true;
        private Prefault prefault = Prefault.defaultPrefault();
        private int copyThreads = defaultCopyThreads();

        private Builder() {
        }

        /**
         * How fresh pool memory is prepared before a blob is written (default {@link Prefault#POPULATE_WRITE},
         * or {@code -Dvineyard.prefault}).
         */
        public Builder prefault(Prefault how) {
            this.prefault = how == null ? Prefault.NONE : how;
            return this;
        }

        /**
         * How many threads copy a value of 16 MiB or more into its blob at put (default 1: the calling
         * thread only). Each part's fresh pages are populated just before it is copied, so population
         * and copy can use more cores; measured on 2 cores it did not help (docs: fresh memory).
         */
        public Builder copyThreads(int threads) {
            if (threads < 1) {
                throw new VineyardException.Invalid("copyThreads must be >= 1, got " + threads);
            }
            this.copyThreads = threads;
            return this;
        }

        /** The socket path (default: {@code VINEYARD_IPC_SOCKET}, else the daemon's default socket). */
        public Builder socket(String path) {
            this.socket = path;
            return this;
        }

        /** How long to wait for any reply (default 300 s, as vineyard's client); 0 waits forever. */
        public Builder timeoutMs(long timeoutMs) {
            this.timeoutMs = timeoutMs;
            return this;
        }

        /**
         * How long to busy-wait for each reply before blocking, in microseconds (default
         * {@code vineyard.spin_us} / {@code VINEYARD_SPIN_US}, else 50; 0 never spins; at most 10 ms). The
         * spin and its back-off are this client's own.
         */
        public Builder spinUs(long spinUs) {
            this.spinUs = spinUs;
            return this;
        }

        /** The builders and resolvers to use (default {@link Registry#global()}). */
        public Builder registry(Registry registry) {
            this.registry = registry;
            return this;
        }

        /**
         * Whether to use the daemon's extension requests where it advertises them (default true); false
         * uses vineyard's standard requests only, as against vineyard's own vineyardd.
         */
        public Builder extensions(boolean useExtensions) {
            this.extensions = useExtensions;
            return this;
        }

        /**
         * Connects and registers.
         *
         * @throws VineyardException.ConnectionError when no daemon listens there
         */
        public IpcClient connect() {
            String path = socket != null ? socket : IpcConnection.defaultSocket();
            return new IpcClient((ms, us) -> IpcConnection.connect(path, ms, us), timeoutMs, spinUs, registry,
                    extensions, prefault, copyThreads);
        }
    }

    /** The underlying connection (raw protocol access). */
    public IpcConnection connection() {
        return conn;
    }

    /**
     * The client's whole mapping of a store fd (server-side number), or null: lets callers check that a
     * view lies in shared memory.
     */
    public MemorySegment storeMapping(int serverFd) {
        return conn.storeMapping(serverFd);
    }

    /** True when {@code address} lies inside one of this client's mappings of the daemon's pool. */
    public boolean isInSharedMemory(long address, long length) {
        for (MemorySegment m : conn.storeMappings()) {
            if (address >= m.address() && address + length <= m.address() + m.byteSize()) {
                return true;
            }
        }
        return false;
    }

    @Override
    BlobWriter newWriter(long sizeBytes) {
        if (sizeBytes < 0) {
            throw new VineyardException.Invalid("create blob: size must be >= 0, got " + sizeBytes);
        }
        if (sizeBytes == 0) {
            return new BlobWriter(this, ObjectId.EMPTY_BLOB, MemorySegment.NULL.reinterpret(0), null);
        }
        ObjectNode r = req("create_buffer_request");
        r.put("size", sizeBytes);
        return conn.locked(() -> {
            ObjectNode reply = call("create blob of " + sizeBytes + " bytes", r);
            JsonNode created = reply.get("created");
            ObjectId id = new ObjectId(Json.readU64(reply.get("id"), "id"));
            MemorySegment bytes = conn.blobSegment(created);
            int storeKey = created.path("store_fd").asInt();
            long fileOffset = created.path("data_offset").asLong();
            BlobWriter.Prefaulter prepare = prefault != Prefault.POPULATE_WRITE ? BlobWriter.Prefaulter.NONE
                    : (from, length) -> populator.populate(storeKey, fileOffset, bytes, from, length);
            BlobWriter w = new BlobWriter(this, id, bytes, Arena.ofShared(), prepare);
            unsealed.add(w);
            return w;
        });
    }

    @Override
    Staged stage(List<BlobWriter> pending) {
        List<ObjectId> ids = new ArrayList<>(pending.size());
        for (BlobWriter w : pending) {
            if (w.id().value() != ObjectIds.EMPTY_BLOB_ID) {
                ids.add(w.id());
            }
            unsealed.remove(w);
        }
        return new Staged(ids, false);   // the bytes are in the pool already; the put seals them
    }

    @Override
    Blob sealWriter(BlobWriter w) {
        if (w.id().value() == ObjectIds.EMPTY_BLOB_ID) {
            w.markSealed();
            return new Blob(w.id(), MemorySegment.NULL.reinterpret(0), null);
        }
        ObjectNode r = req("seal_request");
        r.set("object_id", Json.u64(w.id().value()));
        return conn.locked(() -> {
            call("seal blob " + w.id(), r);   // the daemon now holds the blob for this connection
            unsealed.remove(w);
            w.markSealed();
            long[] ids = {w.id().value()};
            addHolds(ids);
            VineyardObject holder = new VineyardObject(this, ObjectMeta.blobEntry(w.id(), w.size(), instanceId()),
                    Map.of(), ids, null);
            return new Blob(w.id(), w.poolBytes(), holder);
        });
    }

    /**
     * Gets an object; each of its blobs leases the mapping it lies in, and the leases are released with
     * the object's last reference (so a disk file is unmapped once no value of it is open).
     */
    @Override
    VineyardObject fetch(ObjectProtocol.Target target) {
        return conn.locked(() -> {
            ObjectProtocol.Fetched f = protocol.fetch(target, true);
            long[] ids = f.heldIds();
            addHolds(ids);
            Map<ObjectId, Blob> blobs = new LinkedHashMap<>(emptyBlobMap());
            List<StoreMappings.Lease> leases = new ArrayList<>();
            Runnable releaseLeases = () -> leases.forEach(StoreMappings.Lease::close);
            try {
                for (JsonNode p : f.payloads()) {
                    ObjectId id = new ObjectId(Json.readU64(p.get("object_id"), "object_id"));
                    StoreMappings.Lease lease = conn.leaseBlob(p);
                    if (lease != null) {
                        leases.add(lease);
                    }
                    blobs.put(id, new Blob(id, lease == null ? MemorySegment.NULL.reinterpret(0) : lease.segment(), null));
                }
                return new VineyardObject(this, f.meta(), blobs, ids, leases.isEmpty() ? null : releaseLeases);
            } catch (RuntimeException e) {
                releaseLeases.run();
                releaseHolds(ids);
                throw e;
            }
        });
    }

    @Override
    void abortWriter(BlobWriter w) {
        unsealed.remove(w);
        super.abortWriter(w);
    }

    @Override
    void closeWriters() {
        for (BlobWriter w : unsealed) {
            w.markSealed();
        }
        unsealed.clear();
    }
}
