package io.vineyard.client.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.IpcClient;
import io.vineyard.client.IpcConnection;
import io.vineyard.client.ObjectId;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

/**
 * The reading side of a stream, on a connection of its own (a pull waits for the writer: that never
 * holds up the client's other requests). Each {@link #nextChunk()} frees the chunk read before on
 * the daemon (vineyard's rule: every chunk is read once); it returns null once the writer finished
 * and everything was read, and throws {@code StreamFailed} when the writer aborted or died.
 * {@link #close()} before the end drops the stream (its writer's next write fails).
 */
public class StreamReader implements AutoCloseable {
    protected final IpcClient client;
    protected final IpcConnection conn;
    private final ObjectId stream;
    private boolean ended;

    protected StreamReader(IpcClient client, ObjectId stream) {
        this.client = client;
        this.stream = stream;
        this.conn = Streams.openOn(client, stream, 1);
    }

    /** Opens {@code stream} for reading (vineyard allows one reader: a second gets StreamOpened). */
    public static StreamReader open(IpcClient client, ObjectId stream) {
        return new StreamReader(client, stream);
    }

    public ObjectId stream() {
        return stream;
    }

    /**
     * The next chunk's id, waiting for the writer as long as it takes; null at the end of the stream.
     *
     * @throws VineyardException with {@link Status#STREAM_FAILED} when the writer aborted or went away
     */
    public ObjectId nextChunk() {
        if (ended) {
            return null;
        }
        ObjectNode r = Json.object();
        r.put("type", "pull_next_stream_chunk_request");
        r.set("id", Json.u64(stream.value()));
        try {
            ObjectNode reply = conn.request(r);
            return new ObjectId(Json.readU64(reply.get("chunk"), "chunk"));
        } catch (VineyardException e) {
            if (e.status() == Status.STREAM_DRAINED) {
                ended = true;
                return null;
            }
            throw e;
        }
    }

    /** Closes the reader's connection (the daemon frees the last chunk read). */
    @Override
    public void close() {
        conn.close();
    }
}
