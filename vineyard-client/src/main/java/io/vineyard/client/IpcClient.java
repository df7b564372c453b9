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
    /** The options this client was made with (a session's client gets the same). */
    private final Builder settings;

    private IpcClient(Connector connector, Builder settings) {
        super(connector, settings.timeoutMs, settings.spinUs, settings.registry, settings.extensions);
        this.settings = settings;
        this.prefault = settings.prefault;
        this.copyThreads = settings.copyThreads;
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
            return new IpcClient((ms, us) -> IpcConnection.connect(path, ms, us), copyFor(path));
        }

        /** These options, for the socket at {@code path}. */
        private Builder copyFor(String path) {
            Builder b = new Builder();
            b.socket = path;
            b.timeoutMs = timeoutMs;
            b.spinUs = spinUs;
            b.registry = registry;
            b.extensions = extensions;
            b.prefault = prefault;
            b.copyThreads = copyThreads;
            return b;
        }
    }

    // ---- sessions ----------------------------------------------------------------------------------

    /**
     * Makes a new session in the daemon (vineyard's {@code new_session}) and returns a client connected
     * to it, with this client's options. The session has its own objects and names, and shares the
     * daemon's pool; it lives until {@link #deleteSession()} is called on one of its clients and its
     * last client has closed (a client that dies or closes without it leaves the session alive).
     */
    public IpcClient newSession() {
        return newSession(0);
    }

    /**
     * As {@link #newSession()}, with a memory limit: the session's blobs never take more than
     * {@code limitBytes} of the pool (an allocation beyond it fails with {@code NotEnoughMemory} naming
     * the session); 0 means no limit of its own (the pool's).
     */
    public IpcClient newSession(long limitBytes) {
        if (limitBytes < 0) {
            throw new VineyardException.Invalid("newSession: limitBytes must be >= 0, got " + limitBytes);
        }
        ObjectNode r = req("new_session_request");
        r.put("bulk_store_type", 1);
        if (limitBytes > 0) {
            r.put("size", limitBytes);
        }
        String path = call("new session", r).path("socket_path").asText();
        return new IpcClient((ms, us) -> IpcConnection.connect(path, ms, us), settings.copyFor(path));
    }

    /** The id of the session this client is connected to (0: the root session, the daemon's own socket). */
    public long sessionId() {
        return conn.registerReply().path("session_id").asLong();
    }

    /** The socket of this client's session (the daemon's own socket for the root session). */
    public String sessionSocket() {
        return settings.socket;
    }

    /**
     * Deletes this client's session (vineyard's {@code delete_session}) and closes this client: the
     * session ends, its socket is removed and its objects and blobs are freed once its other clients
     * (if any) have closed too. The root session cannot be deleted.
     */
    public void deleteSession() {
        call("delete session " + ObjectIds.sessionText(sessionId()), req("delete_session_request"));
        close();
    }

    /**
     * vineyard's {@code ShallowCopy} from another session: the blobs of object {@code id} of
     * {@code source}'s session move into this client's session (no bytes are copied; the source
     * session no longer lists them), and the object's metadata is created here, with the same
     * signature. Returns the object's id in this session.
     */
    public ObjectId shallowCopyFrom(IpcClient source, ObjectId id) {
        ObjectMeta meta = source.getMeta(id);
        ObjectNode move = req("move_buffers_ownership_request");
        com.fasterxml.jackson.databind.node.ArrayNode pairs = move.putArray("id_to_id");
        for (ObjectMeta blob : meta.walk()) {
            if (blob.isBlob() && blob.id().value() != ObjectIds.EMPTY_BLOB_ID) {
                pairs.addArray().add(Json.u64(blob.id().value())).add(Json.u64(blob.id().value()));
            }
        }
        move.put("session_id", source.sessionId());
        call("move the blobs of " + id + " from session " + ObjectIds.sessionText(source.sessionId()), move);
        ObjectNode create = req("create_data_request");
        create.set("content", meta.toJson());
        return new ObjectId(Json.readU64(call("create the copy of " + id, create).get("id"), "id"));
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
