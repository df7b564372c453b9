package io.vineyard.spark;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.DataFrameArrow;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.GlobalDataFrame;
import io.vineyard.client.types.Scalar;
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
 * task, or a {@code vineyard::Table}.
 *
 * <p>All or nothing. Spark aborts a job without waiting for its running tasks, so a task may put its chunk
 * after the abort. Each task therefore names its chunk {@code <name>.spark-<job>-p<partition>} and then
 * looks for the job's abort marker {@code <name>.spark-<job>.aborted}; the abort binds the marker first and
 * then deletes every partition's named chunk. One daemon orders both: a chunk named before the abort looked
 * is deleted by the abort, one named after it sees the marker and deletes itself. The commit drops the
 * chunks' names once the object holds them; an abort leaves its marker (metadata only, no blob) for late
 * tasks.
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
    private final String job = java.util.UUID.randomUUID().toString().substring(0, 12);
    private int partitions;

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
        partitions = info.numPartitions();
        return new Writers(socket, schema, layout, name, job);
    }

    /** The name a task gives its chunk until the commit. */
    static String stagedName(String name, String job, int partition) {
        return name + ".spark-" + job + "-p" + partition;
    }

    static String abortMarker(String name, String job) {
        return name + ".spark-" + job + ".aborted";
    }

    @Override
    public void commit(WriterCommitMessage[] messages) {
        List<Chunk> chunks = new ArrayList<>(Arrays.stream(messages).map(Chunk.class::cast).toList());
        chunks.sort(Comparator.comparingInt(Chunk::partition));
        try (IpcClient client = IpcClient.connect(socket)) {
            if (layout == Layout.DATAFRAME) {
                client.putNamed(new GlobalDataFrame(chunks.size(), 1, chunks.stream().map(c -> new ObjectId(c.chunkId())).toList()), name);
            } else {
                List<Map.Entry<ObjectId, Long>> batches = new ArrayList<>();
                for (Chunk c : chunks) {
                    batches.add(new AbstractMap.SimpleEntry<>(new ObjectId(c.chunkId()), c.rows()));
                }
                client.putMeta(ArrowTable.metaOf(arrowSchema(schema), batches), true, name);
            }
            for (Chunk c : chunks) {   // only now: a failed commit is aborted, and the abort finds the chunks by these names
                dropQuietly(client, stagedName(name, job, c.partition()));
            }
        }
    }

    @Override
    public void abort(WriterCommitMessage[] messages) {
        try (IpcClient client = IpcClient.connect(socket)) {
            client.putNamed(Scalar.of(job), abortMarker(name, job));   // first: a task naming its chunk later sees it
            for (int p = 0; p < partitions; p++) {
                deleteStaged(client, stagedName(name, job, p));
            }
        }
    }

    /** Deletes the chunk {@code staged} names and the name, when there is one (the abort and a late task may race to it). */
    static void deleteStaged(IpcClient client, String staged) {
        try {
            ObjectId id = client.getName(staged);
            client.dropName(staged);
            client.delete(id);
        } catch (VineyardException.ObjectNotExists e) {
            // not staged (yet), or the other side deleted it
        }
    }

    private static void dropQuietly(IpcClient client, String staged) {
        try {
            client.dropName(staged);
        } catch (VineyardException e) {
            // already gone: nothing to drop
        }
    }

    /** One task's result: its DataFrame or RecordBatch. */
    record Chunk(int partition, long chunkId, long rows) implements WriterCommitMessage {
    }

    /** Makes each task's writer. */
    record Writers(String socket, StructType schema, Layout layout, String name, String job) implements DataWriterFactory {
        @Override
        public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
            return new ChunkWriter(socket, schema, partitionId, layout, name, job);
        }
    }

    /** Rows into pool-allocated Arrow vectors (Spark's own ArrowWriter), put as one DataFrame or RecordBatch. */
    static final class ChunkWriter implements DataWriter<InternalRow> {
        private final int partition;
        private final Layout layout;
        private final String name;
        private final String job;
        private final IpcClient client;
        private final BufferAllocator pool;
        private final VectorSchemaRoot root;
        private final ArrowWriter writer;
        private long rows;

        ChunkWriter(String socket, StructType schema, int partition, Layout layout, String name, String job) {
            this.partition = partition;
            this.layout = layout;
            this.name = name;
            this.job = job;
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
            String staged = stagedName(name, job, partition);
            client.putName(id, staged);
            try {
                client.getName(abortMarker(name, job));
                deleteStaged(client, staged);   // the job was aborted before this chunk was named
                throw new VineyardException(Status.INVALID, "the write of '" + name + "' was aborted; this task's chunk is deleted");
            } catch (VineyardException.ObjectNotExists e) {
                // not aborted: the commit will use it
            }
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
