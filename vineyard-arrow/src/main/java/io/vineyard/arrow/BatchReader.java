package io.vineyard.arrow;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;

import java.io.IOException;

/**
 * An {@link ArrowReader} fed one {@link VectorSchemaRoot} at a time: each is loaded into the reader's root
 * by reference (the buffers are shared, no copy), then closed when the reader owns it.
 */
abstract class BatchReader extends ArrowReader {
    private long bytes;

    BatchReader(BufferAllocator allocator) {
        super(allocator);
    }

    /** The next batch, or null after the last. */
    abstract VectorSchemaRoot nextBatch();

    /** True when a batch is closed once loaded (the reader got it for itself). */
    abstract boolean ownsBatches();

    @Override
    public final boolean loadNextBatch() throws IOException {
        prepareLoadNextBatch();
        VectorSchemaRoot batch = nextBatch();
        if (batch == null) {
            return false;
        }
        try (ArrowRecordBatch rb = new VectorUnloader(batch).getRecordBatch()) {
            bytes += rb.computeBodyLength();
            loadRecordBatch(rb);
        } finally {
            if (ownsBatches()) {
                batch.close();
            }
        }
        return true;
    }

    @Override
    public final long bytesRead() {
        return bytes;
    }
}
