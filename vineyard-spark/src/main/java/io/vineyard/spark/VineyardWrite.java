package io.vineyard.spark;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.DataFrameArrow;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.GlobalDataFrame;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
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
 * ({@link PoolAllocator}: the put only seals them) and puts one chunk, persisted: a
 * {@code vineyard::DataFrame} whose tensor columns are those vectors' blobs ({@link Layout#DATAFRAME}, the
 * default), or a RecordBatch ({@link Layout#TABLE}). The job's commit puts the object of those chunks, in
 * partition order, persisted and named: a {@code vineyard::GlobalDataFrame} of one row of partitions per
 * task, or a {@code vineyard::Table}. An aborted job deletes the chunks its tasks put.
 */
final class VineyardWrite implements WriteBuilder, Write, BatchWrite {
    /** What a write makes: option {@code layout}. */
    enum Layout {
        /** A GlobalDataFrame of DataFrames (pandas' layout, vineyard's global type): int, long, float, double columns without nulls. */
        DATAFRAME,
        /** A Table of RecordBatches: every type vineyard has an Arrow array for, nulls included. */
        TABLE;

        static Layout of(String option) {
            return switch (option == null ? "dataframe" : option.toLowerCase(java.util.Locale.ROOT)) {
                case "dataframe" -> DATAFRAME;
                case "table" -> TABLE;
                default -> throw new VineyardException.Invalid("format(\"vineyard\"): option layout must be dataframe or table, not '" + option + "'");
            };
        }
    }

    private final String socket;
    private final String name;
    private final StructType schema;
    private final Layout layout;

    /**
     * @throws VineyardException {@code TYPE_ERROR} (on the driver, before any task runs) when the layout is
     *                           DATAFRAME and a column is not int, long, float or double
     */
    VineyardWrite(String socket, String name, StructType schema, Layout layout) {
        this.socket = socket;
        this.name = name;
        this.schema = schema;
        this.layout = layout;
        if (layout == Layout.DATAFRAME) {
            for (org.apache.arrow.vector.types.pojo.Field f : arrowSchema(schema).getFields()) {
                try {
                    DataFrameArrow.dtypeOf(f.getType(), f.getName());
                } catch (VineyardException e) {
                    throw new VineyardException(Status.TYPE_ERROR, "writing '" + name + "' as a vineyard::GlobalDataFrame: "
                            + e.getMessage() + "; option(\"layout\", \"table\") writes a vineyard::Table instead", e);
                }
            }
        }
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
        return new Writers(socket, schema, layout);
    }

    @Override
    public void commit(WriterCommitMessage[] messages) {
        List<Chunk> chunks = new ArrayList<>(Arrays.stream(messages).map(Chunk.class::cast).toList());
        chunks.sort(Comparator.comparingInt(Chunk::partition));
        try (IpcClient client = IpcClient.connect(socket)) {
            if (layout == Layout.DATAFRAME) {
                client.putNamed(new GlobalDataFrame(chunks.size(), 1, chunks.stream().map(c -> new ObjectId(c.chunkId())).toList()), name);
                return;
            }
            List<Map.Entry<ObjectId, Long>> batches = new ArrayList<>();
            for (Chunk c : chunks) {
                batches.add(new AbstractMap.SimpleEntry<>(new ObjectId(c.chunkId()), c.rows()));
            }
            client.putMeta(ArrowTable.metaOf(arrowSchema(schema), batches), true, name);
        }
    }

    @Override
    public void abort(WriterCommitMessage[] messages) {
        try (IpcClient client = IpcClient.connect(socket)) {
            for (WriterCommitMessage m : messages) {
                if (m instanceof Chunk c) {
                    client.delete(new ObjectId(c.chunkId()));
                }
            }
        }
    }

    /** One task's result: its DataFrame or RecordBatch. */
    record Chunk(int partition, long chunkId, long rows) implements WriterCommitMessage {
    }

    /** Makes each task's writer. */
    record Writers(String socket, StructType schema, Layout layout) implements DataWriterFactory {
        @Override
        public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
            return new ChunkWriter(socket, schema, partitionId, layout);
        }
    }

    /** Rows into pool-allocated Arrow vectors (Spark's own ArrowWriter), put as one DataFrame or RecordBatch. */
    static final class ChunkWriter implements DataWriter<InternalRow> {
        private final int partition;
        private final Layout layout;
        private final IpcClient client;
        private final BufferAllocator pool;
        private final VectorSchemaRoot root;
        private final ArrowWriter writer;
        private long rows;

        ChunkWriter(String socket, StructType schema, int partition, Layout layout) {
            this.partition = partition;
            this.layout = layout;
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
            ObjectId id = layout == Layout.DATAFRAME
                    ? client.put(DataFrameArrow.fromArrow(root), PutOptions.persistent().withBuilderInput(new DataFrame.PartitionIndex(partition, 0)))
                    : client.put(root, PutOptions.persistent());
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
