package io.vineyard.spark;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.Write;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.sql.execution.arrow.ArrowWriter;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.ArrowUtils;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The write side: each task builds its partition as Arrow vectors directly in the pool
 * ({@link PoolAllocator}: the put only seals them) and puts one RecordBatch, persisted; the job's commit
 * puts the {@code vineyard::Table} of those batches, in partition order, persisted and named. An
 * aborted job deletes the batches its tasks put.
 */
final class VineyardWrite implements WriteBuilder, Write, BatchWrite {
    private final String socket;
    private final String name;
    private final StructType schema;

    VineyardWrite(String socket, String name, StructType schema) {
        this.socket = socket;
        this.name = name;
        this.schema = schema;
    }

    static Schema arrowSchema(StructType schema) {
        return ArrowUtils.toArrowSchema(schema, "UTC", true, false);
    }

    @Override
    public Write build() {
        return this;
    }

    @Override
    public BatchWrite toBatch() {
        return this;
    }

    @Override
    public DataWriterFactory createBatchWriterFactory(PhysicalWriteInfo info) {
        return new Writers(socket, schema);
    }

    @Override
    public void commit(WriterCommitMessage[] messages) {
        List<Chunk> chunks = new ArrayList<>(Arrays.stream(messages).map(Chunk.class::cast).toList());
        chunks.sort(Comparator.comparingInt(Chunk::partition));
        List<Map.Entry<ObjectId, Long>> batches = new ArrayList<>();
        for (Chunk c : chunks) {
            batches.add(new AbstractMap.SimpleEntry<>(new ObjectId(c.batchId()), c.rows()));
        }
        try (IpcClient client = IpcClient.connect(socket)) {
            client.putMeta(ArrowTable.metaOf(arrowSchema(schema), batches), true, name);
        }
    }

    @Override
    public void abort(WriterCommitMessage[] messages) {
        try (IpcClient client = IpcClient.connect(socket)) {
            for (WriterCommitMessage m : messages) {
                if (m instanceof Chunk c) {
                    client.delete(new ObjectId(c.batchId()));
                }
            }
        }
    }

    /** One task's result: its RecordBatch. */
    record Chunk(int partition, long batchId, long rows) implements WriterCommitMessage {
    }

    /** Makes each task's writer. */
    record Writers(String socket, StructType schema) implements DataWriterFactory {
        @Override
        public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
            return new ChunkWriter(socket, schema, partitionId);
        }
    }

    /** Rows into pool-allocated Arrow vectors (Spark's own ArrowWriter), put as one RecordBatch. */
    static final class ChunkWriter implements DataWriter<InternalRow> {
        private final int partition;
        private final IpcClient client;
        private final BufferAllocator pool;
        private final VectorSchemaRoot root;
        private final ArrowWriter writer;
        private long rows;

        ChunkWriter(String socket, StructType schema, int partition) {
            this.partition = partition;
            this.client = IpcClient.connect(socket);
            this.pool = PoolAllocator.root(client);
            this.root = VectorSchemaRoot.create(arrowSchema(schema), pool);
            this.writer = ArrowWriter.create(root);
        }

        @Override
        public void write(InternalRow row) {
            writer.write(row);
            rows++;
        }

        @Override
        public WriterCommitMessage commit() {
            writer.finish();
            ObjectId id = client.put(root);
            client.persist(id);
            return new Chunk(partition, id.value(), rows);
        }

        @Override
        public void abort() {
            // close() drops the blobs of the batch never put
        }

        @Override
        public void close() {
            try {
                root.close();
                pool.close();
            } finally {
                client.close();
            }
        }
    }
}
