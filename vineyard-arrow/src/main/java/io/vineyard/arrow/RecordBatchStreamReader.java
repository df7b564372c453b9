package io.vineyard.arrow;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.stream.StreamReader;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.List;

/**
 * A {@link RecordBatchStream} read as an Arrow {@link org.apache.arrow.vector.ipc.ArrowReader}: each {@link #loadNextBatch()} waits
 * for the producer's next batch and loads it into {@link #getVectorSchemaRoot()} without a copy (the
 * root's buffers are views of the pool). The schema is the first batch's, so {@code getVectorSchemaRoot()}
 * waits for the first batch; an empty stream has an empty schema. A batch's memory is given back to
 * the daemon once the next batch is loaded (or the reader closed).
 */
public final class RecordBatchStreamReader extends BatchReader {
    private final IpcClient client;
    private final StreamReader chunks;
    private final BufferAllocator allocator;
    private VectorSchemaRoot pending;

    RecordBatchStreamReader(IpcClient client, ObjectId stream, BufferAllocator allocator) {
        super(allocator);
        this.client = client;
        this.allocator = allocator;
        this.chunks = StreamReader.open(client, stream);
    }

    private VectorSchemaRoot pull() {
        ObjectId chunk = chunks.nextChunk();
        return chunk == null ? null : client.get(chunk, VectorSchemaRoot.class, allocator);
    }

    @Override
    protected Schema readSchema() {
        pending = pull();
        return pending == null ? new Schema(List.of()) : pending.getSchema();
    }

    @Override
    VectorSchemaRoot nextBatch() {
        VectorSchemaRoot batch = pending != null ? pending : pull();
        pending = null;
        return batch;
    }

    @Override
    boolean ownsBatches() {
        return true;
    }

    @Override
    protected void closeReadSource() {
        if (pending != null) {
            pending.close();
            pending = null;
        }
        chunks.close();
    }
}
