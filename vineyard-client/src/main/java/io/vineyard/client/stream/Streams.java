package io.vineyard.client.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.IpcClient;
import io.vineyard.client.IpcConnection;
import io.vineyard.client.ObjectId;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;

import java.util.Map;
import java.util.TreeMap;

/**
 * Creating streams: a stream is an object of a stream typename (vineyard's {@code vineyard::ByteStream},
 * {@code vineyard::RecordBatchStream}, {@code vineyard::DataframeStream}) with its parameters as
 * {@code params_}, a JSON string, and the daemon's stream of the same id ({@code create_stream}).
 * Vineyard's clients open streams made here and the other way round.
 */
public final class Streams {
    public static final String BYTE_STREAM = "vineyard::ByteStream";
    public static final String RECORD_BATCH_STREAM = "vineyard::RecordBatchStream";
    public static final String DATAFRAME_STREAM = "vineyard::DataframeStream";

    private Streams() {
    }

    /** Creates a stream of {@code typename} with {@code params} (may be empty) and returns its id. */
    public static ObjectId create(IpcClient client, String typename, Map<String, String> params) {
        ObjectNode content = Json.object();
        content.put("typename", typename);
        content.put("nbytes", 0);
        content.put("transient", true);
        content.put("instance_id", client.instanceId());
        content.put("params_", new String(Json.write(Json.MAPPER.valueToTree(new TreeMap<>(params))),
                java.nio.charset.StandardCharsets.UTF_8));
        ObjectNode req = Json.object();
        req.put("type", "create_data_request");
        req.set("content", content);
        ObjectNode made = client.connection().request(req);
        ObjectId id = new ObjectId(Json.readU64(made.get("id"), "id"));
        ObjectNode create = Json.object();
        create.put("type", "create_stream_request");
        create.set("object_id", Json.u64(id.value()));
        try {
            client.connection().request(create);
        } catch (VineyardException e) {
            client.delete(id);
            throw e;
        }
        return id;
    }

    /**
     * Drops a stream ({@code drop_stream}): it fails, its queued chunks are deleted, a waiting reader
     * gets StreamFailed and its writer's next write is refused.
     */
    public static void drop(IpcClient client, ObjectId stream) {
        ObjectNode req = Json.object();
        req.put("type", "drop_stream_request");
        req.set("id", Json.u64(stream.value()));
        client.connection().request(req);
    }

    /** A new connection of {@code client}'s daemon on which {@code stream} is opened in {@code mode} (1 read, 2 write). */
    static IpcConnection openOn(IpcClient client, ObjectId stream, int mode) {
        IpcConnection conn = client.openConnection();
        try {
            ObjectNode open = Json.object();
            open.put("type", "open_stream_request");
            open.set("object_id", Json.u64(stream.value()));
            open.put("mode", mode);
            conn.request(open);
            return conn;
        } catch (RuntimeException e) {
            conn.close();
            throw e;
        }
    }

    /** The parameters a stream was created with ({@code params_}). */
    public static Map<String, String> params(IpcClient client, ObjectId stream) {
        String text = client.getMeta(stream).getString("params_");
        Map<String, String> out = new TreeMap<>();
        try {
            Json.MAPPER.readTree(text == null || text.isEmpty() ? "{}" : text).properties()
                    .forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        } catch (java.io.IOException e) {
            throw new VineyardException.Invalid("stream " + stream + ": params_ is not JSON: " + text);
        }
        return out;
    }
}
