package io.vineyard.arrow;

import org.apache.arrow.vector.VectorSchemaRoot;
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

    /** Closes every batch. */
    @Override
    public void close() {
        batches.forEach(VectorSchemaRoot::close);
    }
}
