package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
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

/**
 * A client over the daemon's TCP port, for another machine (or no shared memory): metadata requests as
 * over IPC; blob bytes travel on the connection. A {@link BlobWriter} is a local buffer uploaded when the
 * object is put ({@code create_remote_buffers}); a get copies the blobs into local memory
 * ({@code get_remote_buffers}), freed when the value is closed.
 */
public final class RpcClient extends AbstractClient {
    private RpcClient(Connector connector, long timeoutMs, long spinUs, Registry registry, boolean extensions) {
        super(connector, timeoutMs, spinUs, registry, extensions);
    }

    /** Connects to {@code host:port}. */
    public static RpcClient connect(String host, int port) {
        return builder().host(host).port(port).connect();
    }

    /** A builder: host, port, timeout, registry. */
    public static Builder builder() {
        return new Builder();
    }

    /** Options of an {@link RpcClient}. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 9600;
        private long timeoutMs = IpcConnection.DEFAULT_TIMEOUT_MS;
        private long spinUs = ReplySpin.defaultSpinUs();
        private Registry registry;
        private boolean extensions = true;

        private Builder() {
        }

        /** The daemon's host (default 127.0.0.1). */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** The daemon's RPC port (default 9600). */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** How long to wait for any reply (default 300 s); 0 waits forever. */
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

        /** Connects and registers. */
        public RpcClient connect() {
            String h = host;
            int p = port;
            return new RpcClient((ms, us) -> IpcConnection.connectTcp(h, p, ms, us), timeoutMs, spinUs, registry,
                    extensions);
        }
    }

    @Override
    BlobWriter newWriter(long sizeBytes) {
        if (sizeBytes < 0) {
            throw new VineyardException.Invalid("create blob: size must be >= 0, got " + sizeBytes);
        }
        if (sizeBytes == 0) {
            return new BlobWriter(this, ObjectId.EMPTY_BLOB, MemorySegment.NULL.reinterpret(0), null);
        }
        Arena local = Arena.ofShared();
        return new BlobWriter(this, null, local.allocate(sizeBytes, 64), local);
    }

    /** Uploads the writers not uploaded yet ({@code create_remote_buffers}: sealed once their bytes arrived). */
    @Override
    Staged stage(List<BlobWriter> pending) {
        List<BlobWriter> upload = new ArrayList<>();
        for (BlobWriter w : pending) {
            if (w.id() == null) {
                upload.add(w);
            }
        }
        List<ObjectId> ids = new ArrayList<>();
        if (upload.isEmpty()) {
            return new Staged(ids, true);
        }
        ObjectNode r = req("create_remote_buffers_request");
        ArrayNode sizes = r.putArray("sizes");
        upload.forEach(w -> sizes.add(w.size()));
        r.put("num", upload.size());
        r.put("compress", false);
        r.put("use_rdma", false);
        List<MemorySegment> data = upload.stream().map(BlobWriter::rawTarget).toList();
        try {
            conn.requestWithUpload(r, ack -> {
                JsonNode got = ack.get("ids");
                for (int i = 0; i < upload.size(); i++) {
                    upload.get(i).assignId(new ObjectId(Json.readU64(got.get(i), "ids")));
                }
            }, data);
        } catch (VineyardException e) {
            throw wrap("upload " + upload.size() + " blobs", e);
        }
        for (BlobWriter w : upload) {
            ids.add(w.id());
        }
        return new Staged(ids, true);
    }

    @Override
    Blob sealWriter(BlobWriter w) {
        if (w.id() != null && w.id().value() == ObjectIds.EMPTY_BLOB_ID) {
            w.markSealed();
            return new Blob(w.id(), MemorySegment.NULL.reinterpret(0), null);
        }
        List<ObjectId> uploaded = stage(List.of(w)).blobs();
        Arena copyArena = Arena.ofShared();
        MemorySegment copy = copyArena.allocate(w.size(), 64);
        MemorySegment.copy(w.rawTarget(), 0, copy, 0, w.size());
        w.markSealed();
        protocol.release(uploaded.stream().mapToLong(ObjectId::value).toArray());
        VineyardObject holder = new VineyardObject(this, ObjectMeta.blobEntry(w.id(), w.size(), instanceId()),
                Map.of(), new long[0], copyArena::close);
        return new Blob(w.id(), copy, holder);
    }

    /**
     * Reads the object's metadata through the protocol, then copies its blobs here with one
     * {@code get_remote_buffers} (the bytes follow the reply), then drops whatever the fetch held.
     */
    @Override
    VineyardObject fetch(ObjectProtocol.Target target) {
        ObjectProtocol.Fetched f = protocol.fetch(target, false);
        Arena local = Arena.ofShared();
        Map<ObjectId, Blob> blobs = new LinkedHashMap<>(emptyBlobMap());
        try {
            long[] wanted = f.meta().blobIds();
            if (wanted.length > 0) {
                ObjectNode get = Requests.putLegacyIds(req("get_remote_buffers_request"), wanted);
                get.put("unsafe", false);
                get.put("compress", false);
                get.put("use_rdma", false);
                List<JsonNode> payloads = new ArrayList<>();
                try {
                    conn.requestWithDownload(get, reply -> {
                        List<MemorySegment> targets = new ArrayList<>();
                        for (JsonNode p : reply.path("payloads")) {
                            long size = p.path("data_size").asLong();
                            ObjectId id = new ObjectId(Json.readU64(p.get("object_id"), "object_id"));
                            MemorySegment seg = size > 0 ? local.allocate(size, 64) : MemorySegment.NULL.reinterpret(0);
                            payloads.add(p);
                            targets.add(seg);
                            blobs.put(id, new Blob(id, seg, null));
                        }
                        return targets;
                    });
                } catch (VineyardException e) {
                    throw wrap(target.what() + ": fetching " + wanted.length + " blobs", e);
                }
                StandardProtocol.fillBlobSizes(f.meta(), payloads);
            }
            return new VineyardObject(this, f.meta(), blobs, new long[0], local::close);
        } catch (RuntimeException e) {
            local.close();
            throw e;
        } finally {
            if (!conn.isClosed()) {
                protocol.release(f.heldIds());
            }
        }
    }
}
