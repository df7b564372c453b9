package io.vineyard.arrow;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.List;

/**
 * A table as record batches sharing one schema: vineyard's {@code vineyard::Table}. Closing it closes every
 * batch (and so releases the daemon's blobs of a got table).
 *
 * @param schema  the schema
 * @param batches the record batches
 */
public record ArrowTable(Schema schema, List<VectorSchemaRoot> batches) implements AutoCloseable {
    /** Copies the list. */
    public ArrowTable {
        batches = List.copyOf(batches);
    }

    /** A table of one batch. */
    public static ArrowTable of(VectorSchemaRoot batch) {
        return new ArrowTable(batch.getSchema(), List.of(batch));
    }

    /** Rows over all batches. */
    public long rowCount() {
        return batches.stream().mapToLong(VectorSchemaRoot::getRowCount).sum();
    }

    /**
     * The batches as an Arrow reader (for writers that take one, such as arrow-dataset's): each batch is
     * loaded into the reader's root by reference, no copy. Closing the reader leaves the table open.
     */
    public ArrowReader reader(BufferAllocator allocator) {
        return new BatchReader(allocator) {
            private int next;

            @Override
            VectorSchemaRoot nextBatch() {
                return next < batches.size() ? batches.get(next++) : null;
            }

            @Override
            boolean ownsBatches() {
                return false;
            }

            @Override
            protected void closeReadSource() {
            }

            @Override
            protected Schema readSchema() {
                return schema;
            }
        };
    }

    /** Closes every batch. */
    @Override
    public void close() {
        batches.forEach(VectorSchemaRoot::close);
    }
}
