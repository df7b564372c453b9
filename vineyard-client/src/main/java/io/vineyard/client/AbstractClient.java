package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.registry.Registry;
import io.vineyard.client.registry.ResolveContext;
import io.vineyard.client.registry.VineyardType;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the IPC and RPC clients share: metadata requests, put and get through the registry, and this
 * client's holds on the daemon's blobs. Whole-object requests go through {@link ObjectProtocol}, chosen
 * at connect time: our extensions when the daemon advertises them, vineyard's standard requests
 * otherwise. The transport's part (where blob bytes live: the shared pool over IPC, local buffers
 * uploaded and downloaded over RPC) is {@link #stage} and {@link #fetch} of the subclasses.
 *
 * <p>A put: build the value's metadata ({@link Builds}, which records every blob it creates), one walk
 * of the tree ({@link #prepare}: the writers to seal, defaults on new nodes), {@link #stage} the
 * writers' bytes, then {@link ObjectProtocol#create}. Any failure drops every blob of the put.
 *
 * <p>Holds: the daemon keeps one hold per (connection, blob), not a count, so this class counts the
 * {@link VineyardObject}s that use each blob and releases it when a count drops to 0.
 * Counts change under the connection's lock, so a get and a release of the same blob never cross.
 * A release is queued and written right before the client's next request (or by {@link #flushReleases()}),
 * its reply (if any) read after: closing a got value costs no round trip and no extra wake-up of the daemon.
 */
abstract class AbstractClient implements Client {
    /** Opens a connection to the daemon with a receive timeout and a reply spin (both as IpcConnection's). */
    @FunctionalInterface
    interface Connector {
        IpcConnection open(long timeoutMs, long spinUs);
    }

    /** A put's blobs once their bytes are on the daemon: their ids, and whether they are sealed already. */
    record Staged(List<ObjectId> blobs, boolean sealed) {
    }

    final IpcConnection conn;
    final ObjectProtocol protocol;
    private final Connector sideConnector;
    private final long timeoutMs;
    private final Registry registry;
    private final long instanceId;
    private final Map<Long, Integer> holds = new HashMap<>();
    /** Threads that copy a large value into its blob ({@link BlobWriter#fill}); set once, before use. */
    int copyThreads = defaultCopyThreads();

    AbstractClient(Connector connector, long timeoutMs, long spinUs, Registry registry, boolean allowExtensions) {
        this.conn = connector.open(timeoutMs, spinUs);
        this.protocol = ObjectProtocol.choose(conn, allowExtensions);
        this.sideConnector = connector;
        this.timeoutMs = timeoutMs;
        this.registry = registry == null ? Registry.global() : registry;
        this.instanceId = conn.registerReply().path("instance_id").asLong();
    }

    /**
     * The default number of threads that copy a large value (16 MiB and more) into its blob: 2 where
     * the machine has 2 processors or more, else 1. One thread's copy into pre-faulted pool memory
     * runs near 3.4 GB/s here, two near 5.8 GB/s ({@code bin/bench-fresh-put}); more gained nothing.
     */
    static int defaultCopyThreads() {
        return Math.min(2, Runtime.getRuntime().availableProcessors());
    }

    // ---- requests --------------------------------------------------------------------------------

    /** Sends a request; a daemon error becomes the typed exception, its message prefixed with {@code what}. */
    ObjectNode call(String what, ObjectNode request) {
        return Requests.call(conn, what, request);
    }

    static VineyardException wrap(String what, VineyardException e) {
        return Requests.wrap(what, e);
    }

    static ObjectNode req(String type) {
        return Requests.of(type);
    }

    @Override
    public long instanceId() {
        return instanceId;
    }

    @Override
    public Registry registry() {
        return registry;
    }

    @Override
    public boolean usesExtensions() {
        return protocol instanceof ExtensionProtocol;
    }

    @Override
    public long requestCount() {
        return conn.framesWritten();
    }

    @Override
    public void flushReleases() {
        conn.flushDeferred();
    }

    @Override
    public boolean isClosed() {
        return conn.isClosed();
    }

    @Override
    public void close() {
        closeWriters();
        conn.close();
    }

    /** Invalidates the writable views of unsealed writers before the mapping goes. */
    void closeWriters() {
    }

    void pinMappings() {
        conn.pinMappings();
    }

    void unpinMappings() {
        conn.unpinMappings();
    }

    // ---- put -------------------------------------------------------------------------------------

    @Override
    public ObjectId put(Object value) {
        return put(value, PutOptions.none());
    }

    @Override
    public ObjectId putNamed(Object value, String name) {
        return put(value, PutOptions.named(name));
    }

    @Override
    public ObjectId put(Object value, PutOptions options) {
        if (value == null) {
            throw new VineyardException.Invalid("put: cannot store null");
        }
        if (options == null) {
            throw new VineyardException.Invalid("put: options are null (PutOptions.none() for none)");
        }
        boolean persist = options.persist();
        String name = options.name();
        if (value instanceof ObjectMeta m) {
            return putMeta(m, persist, name).id();
        }
        Builds ctx = new Builds(options);
        try {
            ObjectMeta meta = ctx.build(value);
            if (meta.isBlob() || meta.isPlaceholder()) {
                // a bare blob (or an existing object): seal it, no metadata to create
                return finishBare(meta, persist, name);
            }
            return putMeta(meta, persist, name).id();
        } catch (RuntimeException | Error e) {
            ctx.abort(e);
            throw e;
        }
    }

    private ObjectId finishBare(ObjectMeta meta, boolean persist, String name) {
        if (meta.pendingBlob() instanceof BlobWriter w) {
            w.seal().close();
            return w.id();
        }
        ObjectId id = meta.id();
        if (persist) {
            persist(id);
        }
        if (name != null) {
            putName(id, name);
        }
        return id;
    }

    @Override
    public ObjectMeta putMeta(ObjectMeta meta, boolean persist, String name) {
        if (meta.typename() == null) {
            throw new VineyardException.Invalid("put: metadata needs a 'typename'");
        }
        List<BlobWriter> pending = prepare(meta);
        boolean persisted = persist || name != null;
        ObjectProtocol.Created c;
        try {
            Staged staged = stage(pending);
            c = protocol.create("put " + meta.typename() + (name == null ? "" : " as '" + name + "'"), meta,
                    staged.blobs(), staged.sealed(), persisted, name);
        } catch (RuntimeException e) {
            for (BlobWriter w : pending) {   // all or nothing, whichever path refused it
                if (w.keptOnFailedPut()) {
                    continue;   // its owner drops it (and may put it again)
                }
                try {
                    abortWriter(w);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        for (BlobWriter w : pending) {
            w.markSealed();
        }
        meta.setId(c.id());
        if (c.signature() != null) {
            meta.putNode("signature", c.signature());
        }
        meta.put("instance_id", c.instanceId() >= 0 ? c.instanceId() : instanceId);
        if (persisted) {
            meta.put("transient", false);
        }
        return meta;
    }

    /**
     * One walk of a tree about to be put: returns its unsealed writers (refusing another client's) and
     * gives every node to be created the keys vineyard's client adds ({@code instance_id},
     * {@code transient}, {@code nbytes}).
     */
    private List<BlobWriter> prepare(ObjectMeta meta) {
        List<BlobWriter> pending = new ArrayList<>();
        for (ObjectMeta node : meta.walk()) {
            if (node.pendingBlob() instanceof BlobWriter w && !w.isSealed()) {
                if (w.client() != this) {
                    throw new VineyardException.Invalid("put " + meta.what() + ": blob " + w.id()
                            + " was created by another client");
                }
                pending.add(w);
            } else if (!node.isBlob() && !node.isPlaceholder() && node.id() == null) {
                if (node.value("instance_id") == null) {
                    node.put("instance_id", instanceId);
                }
                if (node.value("transient") == null) {
                    node.put("transient", true);
                }
                if (node.value("nbytes") == null) {
                    node.put("nbytes", 0L);
                }
            }
        }
        return pending;
    }

    /**
     * Gets the pending writers' bytes to the daemon before the put: over IPC they are there already
     * (their ids, sealed by the put); over RPC they are uploaded (sealed already).
     */
    abstract Staged stage(List<BlobWriter> pending);

    /** Seals one writer now. */
    abstract Blob sealWriter(BlobWriter writer);

    @Override
    public BlobWriter createBlob(long sizeBytes) {
        return newWriter(sizeBytes).prefaultAll();
    }

    /** A new writer of {@code sizeBytes}, its bytes not prepared for writing yet ({@link BlobWriter#fill} does). */
    abstract BlobWriter newWriter(long sizeBytes);

    /** Drops an unsealed writer's blob (a failed build or put) and invalidates its view. */
    void abortWriter(BlobWriter w) {
        if (w.isSealed()) {
            return;
        }
        w.markSealed();
        if (w.id() == null || w.id().value() == ObjectIds.EMPTY_BLOB_ID) {
            return;   // an RPC buffer never uploaded, or the empty blob: nothing on the daemon
        }
        ObjectNode r = req("drop_buffer_request");
        r.set("id", Json.u64(w.id().value()));
        try {
            conn.send(r);
        } catch (VineyardException e) {
            // the connection is gone: the daemon drops unsealed blobs at disconnect
        }
    }

    /**
     * One put's build: the blobs it creates, so that a failure anywhere (a builder that throws, a refused
     * request) drops every one of them and the put leaves nothing behind.
     */
    private final class Builds implements BuildContext {
        private final PutOptions options;
        private final List<BlobWriter> created = new ArrayList<>();

        Builds(PutOptions options) {
            this.options = options;
        }

        @Override
        public long instanceId() {
            return instanceId;
        }

        @Override
        public BlobWriter createBlob(long sizeBytes) {
            BlobWriter w = AbstractClient.this.createBlob(sizeBytes);
            created.add(w);
            return w;
        }

        @Override
        public ObjectMeta blobOf(MemorySegment data) {
            if (data.byteSize() == 0) {
                return ObjectMeta.blobEntry(ObjectId.EMPTY_BLOB, 0, instanceId);
            }
            BlobWriter w = newWriter(data.byteSize());
            created.add(w);
            w.fill(data, copyThreads);
            return w.asMember();
        }

        @Override
        public ObjectMeta blobOf(Blob blob) {
            return ObjectMeta.blobEntry(blob.id(), blob.size(), instanceId);
        }

        @Override
        @SuppressWarnings("unchecked")
        public ObjectMeta build(Object value) {
            if (value instanceof ObjectMeta m) {
                return m;
            }
            if (value instanceof ObjectId id) {
                ObjectMeta ref = new ObjectMeta(null);
                ref.addMember("x", id);
                return ref.member("x");
            }
            if (value instanceof BlobWriter w) {
                return w.asMember();
            }
            VineyardType<Object> type = registry.builderFor(value.getClass());
            return type.build(this, value);
        }

        @Override
        public <O> O option(Class<O> type) {
            return options.builderInput(type);
        }

        /** Drops every blob this build created and is not sealed; a failure to drop joins {@code cause}. */
        void abort(Throwable cause) {
            for (BlobWriter w : created) {
                try {
                    abortWriter(w);
                } catch (RuntimeException e) {
                    cause.addSuppressed(e);
                }
            }
        }
    }

    // ---- get -------------------------------------------------------------------------------------

    @Override
    public <T> T get(ObjectId id, Class<T> type, Object... resolverInputs) {
        List<Object> inputs = resolverInputs("get " + id, resolverInputs);
        return resolve(getObject(id), type, inputs);
    }

    @Override
    public <T> T get(String name, Class<T> type, Object... resolverInputs) {
        List<Object> inputs = resolverInputs("get '" + name + "'", resolverInputs);
        return resolve(getObject(name), type, inputs);
    }

    private static List<Object> resolverInputs(String what, Object[] inputs) {
        List<Object> checked = new ArrayList<>(inputs.length);
        for (Object o : inputs) {
            checked.add(PutOptions.checkInput(what, o));
        }
        return checked;
    }

    private <T> T resolve(VineyardObject object, Class<T> type, List<Object> inputs) {
        try (object) {
            return new Resolves(object, inputs).resolve(object.meta(), type);
        }
    }

    @Override
    public VineyardObject getObject(ObjectId id) {
        return fetch(ObjectProtocol.Target.of(id));
    }

    @Override
    public VineyardObject getObject(String name) {
        return fetch(ObjectProtocol.Target.named(name));
    }

    @Override
    public VineyardObject waitObject(String name) {
        return waitObject(name, timeoutMs == 0 ? null : Duration.ofMillis(timeoutMs));
    }

    @Override
    public VineyardObject waitObject(String name, Duration timeout) {
        return getObject(waitName(name, timeout));
    }

    /**
     * Waits on a second connection, opened for this wait and closed after it: a wait that times out
     * leaves its reply owed on that connection only (closing it drops the daemon's pending wait), never
     * on {@link #conn}, where a late reply would be read as the answer to a later request. The cost is
     * one connect and register per wait. A null {@code timeout} waits forever.
     */
    @Override
    public ObjectId waitName(String name, Duration timeout) {
        if (name == null || name.isEmpty()) {
            throw new VineyardException.Invalid("wait for a name: the name must be a non-empty string");
        }
        if (timeout != null && timeout.isNegative()) {
            throw new VineyardException.Invalid("wait for '" + name + "': negative timeout " + timeout);
        }
        String what = "wait for '" + name + "'";
        ObjectNode r = req("get_name_request");
        r.put("name", name);
        r.put("wait", true);
        long waitMs = timeout == null ? -1 : Math.max(0, timeout.toMillis());
        try (IpcConnection waiter = sideConnector.open(timeoutMs, 0)) {   // a wait is long: no spin
            ObjectNode reply = waiter.requestWithin(r, waitMs);
            if (reply == null) {
                throw new WaitTimeoutException(what + ": the name did not appear within " + timeout, timeout, null);
            }
            return new ObjectId(Json.readU64(reply.get("object_id"), "object_id"));
        } catch (WaitTimeoutException e) {
            throw e;
        } catch (VineyardException e) {
            throw wrap(what, e);
        }
    }

    /**
     * A new registered connection to the same daemon, for requests that wait on the daemon (a
     * stream's pulls and writes): waiting there never holds up this client's own requests. Its replies
     * are awaited without a timeout; the caller closes it.
     */
    public IpcConnection openConnection() {
        return sideConnector.open(0, 0);
    }

    /** Fetches the object through {@link #protocol} and builds it with views of its blobs. */
    abstract VineyardObject fetch(ObjectProtocol.Target target);

    /** Adds one hold count per blob; call under the connection's lock, right after the daemon held them. */
    void addHolds(long[] ids) {
        for (long id : ids) {
            holds.merge(id, 1, Integer::sum);
        }
    }

    /** Drops one hold count per blob and releases, in one frame sent without waiting, the ones at 0. */
    void releaseHolds(long[] ids) {
        if (ids.length == 0) {
            return;
        }
        conn.locked(() -> {
            List<Long> free = new ArrayList<>();
            for (long id : ids) {
                Integer n = holds.get(id);
                if (n == null) {
                    continue;
                }
                if (n <= 1) {
                    holds.remove(id);
                    free.add(id);
                } else {
                    holds.put(id, n - 1);
                }
            }
            if (!free.isEmpty() && !conn.isClosed()) {
                protocol.release(free.stream().mapToLong(Long::longValue).toArray());
            }
            return null;
        });
    }

    /** Blobs this client holds (for tests). */
    int heldBlobCount() {
        return conn.locked(holds::size);
    }

    static Map<ObjectId, Blob> emptyBlobMap() {
        Map<ObjectId, Blob> m = new LinkedHashMap<>();
        m.put(ObjectId.EMPTY_BLOB, new Blob(ObjectId.EMPTY_BLOB, MemorySegment.NULL.reinterpret(0), null));
        return m;
    }

    private final class Resolves implements ResolveContext {
        private final VineyardObject object;
        private final List<Object> inputs;

        Resolves(VineyardObject object, List<Object> inputs) {
            this.object = object;
            this.inputs = inputs;
        }

        @Override
        public Client client() {
            return AbstractClient.this;
        }

        @Override
        public VineyardObject object() {
            return object;
        }

        @Override
        public Blob blob(ObjectMeta blobEntry) {
            return object.blob(blobEntry);
        }

        @Override
        public <R> R resolve(ObjectMeta member, Class<R> type) {
            if (member.isPlaceholder()) {
                throw new VineyardException(Status.META_TREE_INVALID, "get " + object.meta().what()
                        + ": member " + member.id() + " was not resolved by the daemon");
            }
            boolean boxed = type == Long.class || type == Integer.class || type == Double.class || type == Float.class
                    || type == Boolean.class || type == String.class;
            VineyardType<Object> t = registry.resolverFor(member.typename(),
                    boxed ? io.vineyard.client.types.Scalar.class : type);
            Object value = t.resolve(this, member);
            if (!type.isInstance(value) && value instanceof io.vineyard.client.types.Scalar s) {
                value = s.as(type);
            }
            if (!type.isInstance(value)) {
                throw new VineyardException(Status.TYPE_ERROR, "get " + member.what() + ": resolved to a "
                        + (value == null ? "null" : value.getClass().getSimpleName()) + ", not a " + type.getSimpleName());
            }
            return type.cast(value);
        }

        @Override
        public <O> O option(Class<O> type) {
            return PutOptions.firstOfType(inputs, type);
        }
    }

    // ---- metadata --------------------------------------------------------------------------------

    @Override
    public ObjectMeta getMeta(ObjectId id, boolean syncRemote) {
        ObjectNode r = req("get_data_request");
        r.putArray("id").add(Json.u64(id.value()));
        r.put("sync_remote", syncRemote);
        r.put("wait", false);
        ObjectNode reply = call("get metadata of " + id, r);
        JsonNode content = reply.path("content").get(id.toString());
        if (content == null) {
            throw new VineyardException.ObjectNotExists("get metadata of " + id + ": no such object");
        }
        return ObjectMeta.fromJson(content);
    }

    @Override
    public boolean exists(ObjectId id) {
        ObjectNode r = req("exists_request");
        r.set("id", Json.u64(id.value()));
        return call("exists " + id, r).path("exists").asBoolean();
    }

    @Override
    public void persist(ObjectId id) {
        ObjectNode r = req("persist_request");
        r.set("id", Json.u64(id.value()));
        call("persist " + id, r);
    }

    @Override
    public void putName(ObjectId id, String name) {
        ObjectNode r = req("put_name_request");
        r.set("object_id", Json.u64(id.value()));
        r.put("name", name);
        call("name " + id + " '" + name + "'", r);
    }

    @Override
    public ObjectId getName(String name) {
        ObjectNode r = req("get_name_request");
        r.put("name", name);
        r.put("wait", false);
        return new ObjectId(Json.readU64(call("get name '" + name + "'", r).get("object_id"), "object_id"));
    }

    @Override
    public void dropName(String name) {
        ObjectNode r = req("drop_name_request");
        r.put("name", name);
        call("drop name '" + name + "'", r);
    }

    @Override
    public void delete(ObjectId... ids) {
        delete(true, ids);
    }

    @Override
    public void delete(boolean deep, ObjectId... ids) {
        ObjectNode r = req("del_data_request");
        ArrayNode arr = r.putArray("id");
        for (ObjectId id : ids) {
            arr.add(Json.u64(id.value()));
        }
        r.put("deep", deep);
        r.put("force", false);
        r.put("fastpath", false);
        r.put("memory_trim", false);
        call("delete " + java.util.Arrays.toString(ids), r);
    }

    @Override
    public List<ObjectMeta> list(String pattern, int limit) {
        ObjectNode r = req("list_data_request");
        r.put("pattern", pattern);
        r.put("regex", false);
        r.put("limit", limit);
        ObjectNode reply = call("list '" + pattern + "'", r);
        List<ObjectMeta> out = new ArrayList<>();
        reply.path("content").forEach(n -> out.add(ObjectMeta.fromJson(n)));
        return out;
    }

    @Override
    public InstanceStatus status() {
        JsonNode m = call("instance status", req("instance_status_request")).path("meta");
        return new InstanceStatus(m.path("instance_id").asLong(), m.path("memory_usage").asLong(),
                m.path("memory_limit").asLong(), m.path("ipc_connections").asLong(), m.path("rpc_connections").asLong());
    }

    @Override
    public ObjectNode clusterMeta() {
        return (ObjectNode) call("cluster meta", req("cluster_meta")).path("meta");
    }

    @Override
    public ObjectId migrate(ObjectId id) {
        ObjectNode r = req("migrate_object_request");
        r.set("object_id", Json.u64(id.value()));
        return new ObjectId(Json.readU64(call("migrate " + id, r).get("object_id"), "object_id"));
    }

    @Override
    public VineyardObject fetchObject(ObjectId id) {
        ObjectMeta meta = getMeta(id);
        boolean here = meta.isGlobal() || meta.instanceId() == instanceId();
        return getObject(here ? id : migrate(id));
    }

    // ---- memory control ----------------------------------------------------------------------------

    private static ObjectNode idsRequest(String type, ObjectId... ids) {
        ObjectNode r = req(type);
        ArrayNode arr = r.putArray("ids");
        for (ObjectId id : ids) {
            arr.add(Json.u64(id.value()));
        }
        return r;
    }

    @Override
    public int evict(ObjectId... ids) {
        return call("evict " + java.util.Arrays.toString(ids), idsRequest("evict_request", ids)).path("evicted").asInt();
    }

    @Override
    public void load(boolean pin, ObjectId... ids) {
        ObjectNode r = idsRequest("load_request", ids);
        r.put("pin", pin);
        call("load " + java.util.Arrays.toString(ids), r);
    }

    @Override
    public void unpin(ObjectId... ids) {
        call("unpin " + java.util.Arrays.toString(ids), idsRequest("unpin_request", ids));
    }

    @Override
    public boolean isSpilled(ObjectId id) {
        ObjectNode r = req("is_spilled_request");
        r.set("id", Json.u64(id.value()));
        return call("is_spilled " + id, r).path("is_spilled").asBoolean();
    }

    @Override
    public boolean isInUse(ObjectId id) {
        ObjectNode r = req("is_in_use_request");
        r.set("id", Json.u64(id.value()));
        return call("is_in_use " + id, r).path("is_in_use").asBoolean();
    }

    @Override
    public long memoryTrim() {
        return call("memory_trim", req("memory_trim_request")).path("trimmed_bytes").asLong();
    }

    static String idText(long id) {
        return ObjectIds.toText(id);
    }
}
