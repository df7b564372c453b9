package io.vineyard.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One command's connection to a vineyardd. Puts and gets go through the Java SDK ({@link IpcClient});
 * what the SDK has no call for (listing with a regex, names, a delete with vineyard's {@code deep} and
 * {@code force} flags, a bare blob's bytes, the daemon's request statistics) is one standard vineyard
 * request each, so every verb works against vineyard's own vineyardd too. {@code server_stats_request}
 * is sent only when the daemon lists it in {@code register_reply.extensions}.
 *
 * <p>The socket is {@code --socket}, else {@code VINEYARD_IPC_SOCKET}, else the daemon's default socket
 * ({@code $XDG_RUNTIME_DIR/vineyard/vineyard.sock}, else {@code ~/.local/vineyard/vineyard.sock}).
 */
final class Session implements AutoCloseable {
    /** The limit sent for "no limit" (vineyard's daemon reads {@code limit} as a size_t). */
    static final long NO_LIMIT = Integer.MAX_VALUE;

    private final String socket;
    private IpcClient client;

    Session(String socket) {
        this.socket = socket;
    }

    /** The socket path: the flag, else {@code VINEYARD_IPC_SOCKET}, else the daemon's default. */
    static String socketPath(String flag, Map<String, String> env) {
        if (flag != null && !flag.isEmpty()) {
            return flag;
        }
        String fromEnv = env.get("VINEYARD_IPC_SOCKET");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return fromEnv;
        }
        String runtime = env.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isEmpty() && Files.isDirectory(Path.of(runtime))) {
            return Path.of(runtime, "vineyard", "vineyard.sock").toString();
        }
        return Path.of(System.getProperty("user.home"), ".local", "vineyard", "vineyard.sock").toString();
    }

    String socket() {
        return socket;
    }

    /** The SDK client, connected on first use. */
    IpcClient client() {
        if (client == null) {
            try {
                client = IpcClient.builder().socket(socket).connect();
            } catch (VineyardException e) {
                throw new CtlException(ExitCode.CONNECTION, e.getMessage()
                        + " (is vineyardd running there? pass --socket PATH or set VINEYARD_IPC_SOCKET)", e);
            }
        }
        return client;
    }

    /** The request types beyond vineyard's protocol that the daemon serves (none for vineyardd 0.24). */
    List<String> extensions() {
        JsonNode ext = client().connection().registerReply().path("extensions");
        List<String> out = new java.util.ArrayList<>();
        ext.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The register reply's fields (version, instance id, endpoints...). */
    ObjectNode registerReply() {
        return client().connection().registerReply();
    }

    /** The object {@code ref} names: its id as given, or the id its name is bound to. */
    ObjectId resolve(ObjectRef ref) {
        if (ref.id() != null) {
            return ref.id();
        }
        try {
            return client().getName(ref.name());
        } catch (VineyardException.ObjectNotExists e) {
            throw new CtlException(ExitCode.NOT_FOUND, "no object is named '" + ref.name() + "'", e);
        }
    }

    /** The metadata of a non-blob object. */
    ObjectMeta meta(ObjectId id) {
        try {
            return client().getMeta(id);
        } catch (VineyardException.ObjectNotExists e) {
            throw notFound(id, e);
        }
    }

    static CtlException notFound(ObjectId id, Throwable cause) {
        return new CtlException(ExitCode.NOT_FOUND, "object " + id + " does not exist", cause);
    }

    /**
     * {@code list_data}: objects (and, when the pattern matches {@code vineyard::Blob}, sealed blobs after
     * them) by id, in the daemon's order.
     */
    Map<ObjectId, ObjectMeta> list(String pattern, boolean regex, long limit) {
        ObjectNode r = request("list_data_request");
        r.put("pattern", pattern);
        r.put("regex", regex);
        r.put("limit", limit);
        JsonNode content = call(r).path("content");
        Map<ObjectId, ObjectMeta> out = new LinkedHashMap<>();
        if (content.isObject()) {
            content.properties().forEach(e -> out.put(ObjectId.parse(e.getKey()), ObjectMeta.fromJson(e.getValue())));
        }
        return out;
    }

    /** {@code list_name}: every name matching the glob or regex, sorted, with its object. */
    Map<String, ObjectId> names(String pattern, boolean regex, long limit) {
        ObjectNode r = request("list_name_request");
        r.put("pattern", pattern);
        r.put("regex", regex);
        r.put("limit", limit);
        Map<String, ObjectId> out = new TreeMap<>();
        call(r).path("names").properties().forEach(e ->
                out.put(e.getKey(), new ObjectId(Json.readU64(e.getValue(), e.getKey()))));
        return out;
    }

    /** {@code del_data} with vineyard's flags. */
    void delete(ObjectId id, boolean deep, boolean force) {
        ObjectNode r = request("del_data_request");
        r.putArray("id").add(Json.u64(id.value()));
        r.put("deep", deep);
        r.put("force", force);
        r.put("fastpath", false);
        r.put("memory_trim", false);
        call(r);
    }

    /** True when the object or blob exists. */
    boolean exists(ObjectId id) {
        return client().exists(id);
    }

    /**
     * A sealed blob's bytes, mapped from the pool (no copy), held by this connection until it closes
     * ({@code get_buffers}).
     */
    MemorySegment blob(ObjectId id) {
        return blobs(List.of(id)).get(id);
    }

    /**
     * Sealed blobs' bytes in one {@code get_buffers}, mapped from the pool (no copy) and held by this
     * connection until it closes.
     *
     * @throws CtlException (not found) when one of them does not exist or is not sealed
     */
    Map<ObjectId, MemorySegment> blobs(List<ObjectId> ids) {
        Map<ObjectId, MemorySegment> out = new LinkedHashMap<>();
        ObjectNode r = request("get_buffers_request");
        var arr = r.putArray("ids");
        for (ObjectId id : ids) {
            if (id.equals(ObjectId.EMPTY_BLOB)) {
                out.put(id, MemorySegment.NULL.reinterpret(0));
            } else {
                arr.add(Json.u64(id.value()));
            }
        }
        if (!arr.isEmpty()) {
            r.put("unsafe", false);
            for (JsonNode payload : call(r).path("payloads")) {
                out.put(new ObjectId(Json.readU64(payload.get("object_id"), "object_id")),
                        client().connection().blobSegment(payload));
            }
        }
        for (ObjectId id : ids) {
            if (!out.containsKey(id)) {
                throw new CtlException(ExitCode.NOT_FOUND, "blob " + id + " does not exist (or is not sealed)", null);
            }
        }
        return out;
    }

    /** {@code instance_status}'s {@code meta}. */
    JsonNode instanceStatus() {
        return call(request("instance_status_request")).path("meta");
    }

    /** {@code server_stats} when the daemon serves it, else null. */
    JsonNode serverStats() {
        if (!extensions().contains("server_stats_request")) {
            return null;
        }
        return call(request("server_stats_request"));
    }

    /** The daemon's sessions ({@code list_sessions}, an extension of ours). */
    JsonNode sessions() {
        if (!extensions().contains("list_sessions_request")) {
            throw new CtlException(ExitCode.FAILED, "the daemon at " + socket()
                    + " does not list its sessions (list_sessions_request is an extension of vineyard-java's vineyardd)", null);
        }
        return call(request("list_sessions_request")).path("sessions");
    }

    /** {@code cluster_meta}'s {@code meta}: one entry per instance. */
    JsonNode clusterMeta() {
        return call(request("cluster_meta")).path("meta");
    }

    private static ObjectNode request(String type) {
        ObjectNode r = Json.object();
        r.put("type", type);
        return r;
    }

    private ObjectNode call(ObjectNode request) {
        return client().connection().request(request);
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
    }
}
