package io.vineyard.arrow;

import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
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

    /**
     * The metadata of a {@code vineyard::Table} whose partitions are RecordBatches already in the daemon
     * (written by other clients or processes, e.g. one per Spark task): {@code client.putMeta} of it
     * creates the table with no copy of their data.
     *
     * @param schema  the batches' schema
     * @param batches each batch's id and row count, in order
     */
    public static ObjectMeta metaOf(Schema schema, List<java.util.Map.Entry<ObjectId, Long>> batches) {
        ObjectMeta m = new ObjectMeta("vineyard::Table");
        m.put("num_rows_", batches.stream().mapToLong(java.util.Map.Entry::getValue).sum());
        m.put("num_columns_", (long) schema.getFields().size());
        m.put("batch_num_", (long) batches.size());
        m.put("partitions_-size", (long) batches.size());
        m.addMember("schema_", ArrowTypes.buildSchema(schema));
        for (int i = 0; i < batches.size(); i++) {
            m.addMember("partitions_-" + i, batches.get(i).getKey());
        }
        m.setNbytes(0);
        return m;
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
