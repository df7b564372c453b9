package io.vineyard.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;
import io.vineyard.common.posix.PosixException;
import io.vineyard.common.wire.FrameSocket;
import io.vineyard.server.Version;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobLinks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code migrate_object} (spec 6.5): pulls an object another instance holds over that instance's RPC
 * port, with vineyard's {@code get_remote_buffers_request}, into fresh local blobs, and creates and
 * persists its copy here with the same signature.
 *
 * <ul>
 *   <li>Concurrent migrations of one object wait for the same transfer; a later one finds the copy by
 *       its signature and transfers nothing (vineyard transfers once per request).</li>
 *   <li>Bytes go from the socket straight into the new blobs' pool memory (no staging buffer), raw:
 *       zstd costs more than it saves at loopback and LAN speeds.</li>
 *   <li>A transfer that breaks (the source dies, the connection drops) deletes the blobs it made and
 *       fails with a typed error; nothing half-made stays.</li>
 *   <li>Transfers run on platform threads: the blocking socket reads would pin a connection's virtual
 *       thread's carrier, and the waiting request parks without one.</li>
 * </ul>
 */
public final class Migrations {
    private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
    private static final long IO_TIMEOUT_MS = 30_000;

    private final DaemonContext ctx;
    private final Map<Long, CompletableFuture<Long>> inFlight = new ConcurrentHashMap<>();
    private final ExecutorService transfers = Executors.newCachedThreadPool(r -> Thread.ofPlatform().daemon()
            .name("vineyard-migrate").unstarted(r));

    public Migrations(DaemonContext ctx) {
        this.ctx = ctx;
    }

    /** What the store says about the object to migrate, read under the lock. */
    private record Source(ObjectNode tree, long owner, String endpoint, Long localCopy) {
    }

    /** The id of a local copy of {@code id}: {@code id} itself when it is local. */
    public long migrate(long id) {
        if (ObjectIds.isBlob(id)) {
            throw new VineyardException.Invalid("migrate_object: " + ObjectIds.toText(id)
                    + " is a blob; migrate the object that holds it");
        }
        ctx.backend().syncRemote();
        Source src = ctx.locked(() -> {
            ObjectNode tree = ctx.meta().get(id);
            if (tree == null) {
                throw new VineyardException.ObjectNotExists("migrate_object: object " + ObjectIds.toText(id) + " doesn't exist");
            }
            long owner = ctx.meta().ownerOf(id);
            if (owner == ctx.instanceId()) {
                return new Source(tree, owner, null, id);
            }
            if (tree.path("global").asBoolean(false)) {
                throw new VineyardException(Status.GLOBAL_OBJECT_INVALID, "migrate_object: " + ObjectIds.toText(id)
                        + " is a global object; migrate its members");
            }
            Long copy = ctx.meta().localEquivalent(Json.readU64(tree.get("signature"), "signature"),
                    tree.path("typename").asText());
            ObjectNode instance = ctx.meta().instance(owner);
            String endpoint = instance == null ? null : instance.path("rpc_endpoint").asText(null);
            return new Source(tree, owner, endpoint, copy);
        });
        if (src.localCopy() != null) {
            return src.localCopy();
        }
        if (src.endpoint() == null) {
            throw new VineyardException.ObjectNotExists("migrate_object: " + ObjectIds.toText(id) + " is held by instance i"
                    + src.owner() + ", which is gone (its lease expired or it stopped)");
        }
        CompletableFuture<Long> mine = new CompletableFuture<>();
        CompletableFuture<Long> running = inFlight.putIfAbsent(id, mine);
        if (running == null) {
            transfers.execute(() -> {
                try {
                    mine.complete(transfer(id, src));
                } catch (Throwable t) {
                    mine.completeExceptionally(t);
                } finally {
                    inFlight.remove(id, mine);
                }
            });
            running = mine;
        }
        try {
            return running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VineyardException(Status.CONNECTION_ERROR, "interrupted while migrating " + ObjectIds.toText(id));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof VineyardException ve) {
                throw ve;
            }
            throw new VineyardException(Status.UNKNOWN_ERROR, "migrating " + ObjectIds.toText(id) + ": " + e.getCause());
        }
    }

    private long transfer(long id, Source src) {
        long t0 = System.nanoTime();
        List<Long> blobIds = new ArrayList<>(blobsOf(src.tree(), new LinkedHashSet<>()));
        BlobLinks holder = new BlobLinks(-1);
        List<Blob> made = new ArrayList<>();
        Map<Long, Blob> byOriginal = new HashMap<>();
        try (FrameSocket socket = connect(src.endpoint())) {
            register(socket);
            ObjectNode req = Json.object();
            req.put("type", "get_remote_buffers_request");
            req.put("num", blobIds.size());
            for (int i = 0; i < blobIds.size(); i++) {
                req.set(Integer.toString(i), Json.u64(blobIds.get(i)));
            }
            req.put("unsafe", false);
            req.put("compress", false);
            req.put("use_rdma", false);
            ObjectNode reply = request(socket, req);
            List<JsonNode> payloads = new ArrayList<>();
            reply.path("payloads").forEach(payloads::add);
            long[] sizes = payloads.stream().mapToLong(p -> p.path("data_size").asLong()).toArray();
            made.addAll(ctx.locked(() -> ctx.blobs().createAll(sizes, holder)));
            for (int i = 0; i < payloads.size(); i++) {
                byOriginal.put(Json.readU64(payloads.get(i).get("object_id"), "object_id"), made.get(i));
                if (sizes[i] > 0) {
                    socket.readSegment(ctx.blobs().bytes(made.get(i)));
                }
            }
        } catch (RuntimeException e) {
            discard(made, holder);
            throw new VineyardException(Status.CONNECTION_ERROR, "migrate_object: pulling " + ObjectIds.toText(id)
                    + " from instance i" + src.owner() + " at " + src.endpoint() + " failed: " + e.getMessage(), e);
        }
        long created;
        try {
            ObjectNode content = copyOf(src.tree(), byOriginal);
            content.put("transient", false);
            created = ctx.locked(() -> {
                ctx.blobs().sealAll(made);
                long newId = ctx.meta().create(content).id();
                for (Blob b : made) {
                    ctx.blobs().releaseIfHeld(b.id(), holder); // the copy owns its blobs, as a put does
                }
                return newId;
            });
        } catch (RuntimeException e) {
            discard(made, holder);
            throw e;
        }
        ctx.publishIfPersistent(created);
        long bytes = made.stream().mapToLong(Blob::size).sum();
        LOG.info("migrated {} from i{} as {}: {} blobs, {} bytes in {} ms", ObjectIds.toText(id), src.owner(),
                ObjectIds.toText(created), made.size(), bytes, (System.nanoTime() - t0) / 1_000_000);
        return created;
    }

    private void discard(List<Blob> made, BlobLinks holder) {
        ctx.lockedRun(() -> {
            for (Blob b : made) {
                ctx.blobs().delete(b.id(), holder, false);
            }
        });
    }

    /** Blob ids in the tree, in first-seen order (the empty blob needs no transfer). */
    private static Set<Long> blobsOf(JsonNode tree, Set<Long> out) {
        if ("vineyard::Blob".equals(tree.path("typename").asText())) {
            long id = ObjectIds.parseText(tree.path("id").asText());
            if (id != ObjectIds.EMPTY_BLOB_ID) {
                out.add(id);
            }
            return out;
        }
        for (Map.Entry<String, JsonNode> f : tree.properties()) {
            if (f.getValue().isObject()) {
                blobsOf(f.getValue(), out);
            }
        }
        return out;
    }

    /**
     * The tree to create here: members without ids (created afresh, signatures kept), blobs replaced
     * by the local copies with their real sizes.
     */
    private static ObjectNode copyOf(JsonNode tree, Map<Long, Blob> byOriginal) {
        ObjectNode out = Json.object();
        for (Map.Entry<String, JsonNode> f : tree.properties()) {
            JsonNode v = f.getValue();
            if (!v.isObject()) {
                if (!f.getKey().equals("id") && !f.getKey().equals("instance_id") && !f.getKey().equals("__name")) {
                    out.set(f.getKey(), v);
                }
                continue;
            }
            if ("vineyard::Blob".equals(v.path("typename").asText())) {
                long original = ObjectIds.parseText(v.path("id").asText());
                Blob local = byOriginal.get(original);
                ObjectNode b = Json.object();
                b.put("id", ObjectIds.toText(local == null ? ObjectIds.EMPTY_BLOB_ID : local.id()));
                b.put("typename", "vineyard::Blob");
                b.put("length", local == null ? 0 : local.size());
                b.put("nbytes", local == null ? 0 : local.size());
                out.set(f.getKey(), b);
            } else {
                out.set(f.getKey(), copyOf(v, byOriginal));
            }
        }
        return out;
    }

    private static FrameSocket connect(String endpoint) {
        int colon = endpoint.lastIndexOf(':');
        if (colon < 0) {
            throw new VineyardException(Status.CONNECTION_FAILED, "bad rpc endpoint '" + endpoint + "'");
        }
        String host = endpoint.substring(0, colon);
        int port = Integer.parseInt(endpoint.substring(colon + 1));
        byte[] addr;
        try {
            addr = java.net.InetAddress.getByName(host).getAddress();
        } catch (java.io.IOException e) {
            throw new VineyardException(Status.CONNECTION_FAILED, "unknown host " + host);
        }
        int fd = Posix.socket(Posix.AF_INET, Posix.SOCK_STREAM);
        try (Arena arena = Arena.ofConfined()) {
            if (Posix.connect(fd, Posix.inetAddress(arena, addr, port)) != 0) {
                PosixException e = Posix.error("connect to " + endpoint);
                Posix.close(fd);
                throw new VineyardException(Status.CONNECTION_FAILED, e.getMessage());
            }
        }
        Posix.setIntOption(fd, Posix.IPPROTO_TCP, Posix.TCP_NODELAY, 1);
        Posix.setReceiveTimeout(fd, IO_TIMEOUT_MS);
        return new FrameSocket(fd, true);
    }

    private static void register(FrameSocket socket) {
        ObjectNode req = Json.object();
        req.put("type", "register_request");
        req.put("version", Version.PROTOCOL);
        req.put("store_type", 1);
        req.put("session_id", 0);
        req.put("username", "");
        req.put("password", "");
        request(socket, req);
    }

    private static ObjectNode request(FrameSocket socket, ObjectNode req) {
        socket.writeFrame(Json.write(req));
        byte[] body = socket.readFrame();
        if (body == null) {
            throw new VineyardException(Status.CONNECTION_ERROR, "the source closed the connection");
        }
        JsonNode reply;
        try {
            reply = Json.parse(body);
        } catch (java.io.IOException e) {
            throw new VineyardException(Status.CONNECTION_ERROR, "the source sent a malformed reply");
        }
        int code = reply.path("code").asInt(0);
        if (code != 0) {
            throw new VineyardException(Status.CONNECTION_ERROR, "the source answered " + reply.path("type").asText()
                    + " with error " + code + ": " + reply.path("message").asText());
        }
        return (ObjectNode) reply;
    }

    /** Stops the transfer threads (daemon shutdown). */
    public void close() {
        transfers.shutdownNow();
    }
}
