package io.vineyard.arrow;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * An {@link ArrowReader} over a table's batches, one after the other, sharing their buffers (no copy): how
 * a vineyard table reaches Arrow APIs that take a reader (the C stream interface, dataset writers).
 * Closing the reader leaves the table open; its owner closes it after the reader. The reader's allocator
 * must share a root with the batches' allocator (Arrow moves buffers only within one root).
 */
public final class ArrowTableReader extends ArrowReader {
    private final ArrowTable table;
    private int next;

    /** A reader of {@code table} whose root lives in {@code allocator}. */
    public ArrowTableReader(BufferAllocator allocator, ArrowTable table) {
        super(allocator);
        this.table = table;
    }

    @Override
    public boolean loadNextBatch() {
        if (next >= table.batches().size()) {
            return false;
        }
        try (ArrowRecordBatch batch = new VectorUnloader(table.batches().get(next++)).getRecordBatch()) {
            loadRecordBatch(batch);
        }
        return true;
    }

    @Override
    public long bytesRead() {
        return 0;
    }

    @Override
    protected void closeReadSource() {
        // the table is its owner's
    }

    @Override
    protected Schema readSchema() {
        return table.schema();
    }
}
