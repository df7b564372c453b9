package io.vineyard.client.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.IpcClient;
import io.vineyard.client.IpcConnection;
import io.vineyard.client.ObjectId;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;

import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * The writing side of a stream, on a connection of its own (a write may wait for the reader: that
 * never holds up the client's other requests). Chunks are either allocated by the daemon
 * ({@link #nextChunk}: the bytes are written in place, and the previous chunk is sealed and queued
 * when the next is asked for or the stream is finished) or built by the client and pushed
 * ({@link #push}). When the streams' memory would pass {@code --stream_threshold} percent of the
 * pool, a write waits until the reader frees a chunk, or, with a {@link #waitLimit}, fails with
 * NotEnoughMemory after that long.
 *
 * <p>{@link #finish()} ends the stream for its reader (drained, after the queued chunks);
 * {@link #close()} without finish aborts it (the reader gets StreamFailed), as does the death of the
 * writer's process.
 */
public class StreamWriter implements AutoCloseable {
    private final IpcConnection conn;
    private final ObjectId stream;
    private Duration waitLimit;
    private boolean stopped;

    protected StreamWriter(IpcClient client, ObjectId stream) {
        this.stream = stream;
        this.conn = Streams.openOn(client, stream, 2);
    }

    /** Opens {@code stream} for writing (vineyard allows one writer: a second gets StreamOpened). */
    public static StreamWriter open(IpcClient client, ObjectId stream) {
        return new StreamWriter(client, stream);
    }

    /** The stream's id. */
    public ObjectId stream() {
        return stream;
    }

    /**
     * How long a write may wait for stream memory before it fails with NotEnoughMemory (null, the
     * default: as long as it takes, as vineyard's writers wait).
     */
    public StreamWriter waitLimit(Duration limit) {
        this.waitLimit = limit;
        return this;
    }

    private ObjectNode request(String type) {
        ObjectNode r = Json.object();
        r.put("type", type);
        r.set("id", Json.u64(stream.value()));
        if (waitLimit != null && !type.equals("stop_stream_request")) {
            r.put("timeout_ms", Math.max(0, waitLimit.toMillis()));
        }
        return r;
    }

    private void checkOpen() {
        if (stopped) {
            throw new VineyardException.Invalid("stream " + stream + " was already finished or aborted by this writer");
        }
    }

    /**
     * A new chunk of {@code size} bytes in the pool, to fill in place until the next call; the chunk
     * asked for before is sealed and queued for the reader now.
     */
    public MemorySegment nextChunk(long size) {
        checkOpen();
        ObjectNode r = request("get_next_stream_chunk_request");
        r.put("size", size);
        ObjectNode reply = conn.request(r);
        return conn.blobSegment(reply.get("buffer"));
    }

    /** Queues an object (or blob) the client built and sealed as the next chunk. */
    public void push(ObjectId chunk) {
        checkOpen();
        ObjectNode r = request("push_next_stream_chunk_request");
        r.set("chunk", Json.u64(chunk.value()));
        conn.request(r);
    }

    /** Ends the stream: the reader gets the queued chunks, then the end. */
    public void finish() {
        stop(false);
    }

    /** Ends the stream as failed: the reader gets StreamFailed after what is queued. */
    public void abort() {
        stop(true);
    }

    private void stop(boolean failed) {
        checkOpen();
        stopped = true;
        ObjectNode r = request("stop_stream_request");
        r.put("failed", failed);
        conn.request(r);
    }

    /**
     * Closes the writer's connection; unless the stream was finished, the daemon then fails it (its
     * reader gets StreamFailed after the queued chunks) and frees the chunk being written.
     */
    @Override
    public void close() {
        stopped = true;
        conn.close();
    }
}
