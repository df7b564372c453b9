package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;

import java.util.List;

/**
 * How a client creates, reads and releases whole objects on its connection: the one seam between
 * vineyard's standard requests ({@link StandardProtocol}, which every vineyardd 0.24 serves) and our
 * extension requests ({@link ExtensionProtocol}: one request per put and per get). The client picks one
 * at connect time from {@code register_reply.extensions}: the extension path only when the daemon lists
 * every request it uses, so the same API and the same types work against vineyard's own daemon.
 *
 * <p>Both paths keep the same contract: a put is all or nothing (a failure leaves no object and no
 * blob of the put behind), a fetch holds the object's blobs on the connection until {@link #release},
 * and a release costs no round trip (it travels in front of the next request).
 */
sealed interface ObjectProtocol permits ExtensionProtocol, StandardProtocol {
    /** The extension requests {@link ExtensionProtocol} sends; all must be advertised to use it. */
    List<String> EXTENSION_REQUESTS = List.of("get_object_request", "put_object_request", "release_buffers_request");

    /**
     * The protocol for {@code conn}: the extension path when {@code allowExtensions} and the daemon
     * advertises every request of {@link #EXTENSION_REQUESTS}, vineyard's standard requests otherwise.
     */
    static ObjectProtocol choose(IpcConnection conn, boolean allowExtensions) {
        if (allowExtensions && conn.extensions().containsAll(EXTENSION_REQUESTS)) {
            return new ExtensionProtocol(conn);
        }
        return new StandardProtocol(conn);
    }

    /** An object to fetch: by id, or by name. */
    record Target(ObjectId id, String name) {
        static Target of(ObjectId id) {
            return new Target(id, null);
        }

        static Target named(String name) {
            return new Target(null, name);
        }

        /** "get o..." / "get 'name'" for messages. */
        String what() {
            return "get " + (id != null ? id.toString() : "'" + name + "'");
        }
    }

    /**
     * A fetched object: its metadata tree (with its id), the payloads of its blobs (empty when not
     * asked for), and the blobs the connection now holds for it (release them with {@link #release}).
     */
    record Fetched(ObjectMeta meta, List<JsonNode> payloads, long[] heldIds) {
    }

    /** What the daemon answered for a created object. */
    record Created(ObjectId id, JsonNode signature, long instanceId) {
        static Created of(ObjectNode reply, long fallbackInstance) {
            return new Created(new ObjectId(Json.readU64(reply.get("id"), "id")), reply.get("signature"),
                    reply.path("instance_id").asLong(fallbackInstance));
        }
    }

    /**
     * Creates the object {@code meta} describes, with every member that has no id yet, and persists and
     * names it when asked; {@code blobs} are the put's new blobs (sealed by this call unless
     * {@code blobsSealed}: RPC uploads arrive sealed), whose holds the connection drops once the object
     * exists. All or nothing: on failure nothing of it stays, the blobs included.
     *
     * @param what the operation, for messages ("put vineyard::Tensor&lt;double&gt; as 'x'")
     * @param name null for none
     */
    Created create(String what, ObjectMeta meta, List<ObjectId> blobs, boolean blobsSealed, boolean persist,
                   String name);

    /**
     * Fetches an object's metadata and, with {@code payloads}, the payloads of its blobs (new store fds
     * are received and mapped by the connection), which the connection then holds. Without
     * {@code payloads} (RPC: the bytes travel with {@code get_remote_buffers}) the extension path still
     * holds them: release {@link Fetched#heldIds()}.
     *
     * @throws VineyardException.ObjectNotExists when there is no such object or name
     */
    Fetched fetch(Target target, boolean payloads);

    /** Drops the connection's holds on {@code blobIds}, without a round trip. */
    void release(long[] blobIds);

    /** "extensions" or "standard", for messages and benchmarks. */
    String name();
}
