package io.vineyard.spark;

import io.vineyard.arrow.DataFrameArrow;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.types.DataFrame;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * The read side: one input partition per chunk (record batch, or DataFrame of a global one), read as one
 * {@link ColumnarBatch} of {@link ArrowColumnVector}s over the pool (a get, no copy), holding only the
 * required columns.
 */
final class VineyardScan implements ScanBuilder, SupportsPushDownRequiredColumns, Scan, Batch {
    private final String socket;
    private final String name;
    private final boolean fetch;
    private StructType readSchema;

    /** {@code fetch}: a task whose chunk is on another instance migrates a copy here, reads it, deletes the copy. */
    VineyardScan(String socket, String name, StructType schema, boolean fetch) {
        this.socket = socket;
        this.name = name;
        this.readSchema = schema;
        this.fetch = fetch;
    }

    @Override
    public void pruneColumns(StructType requiredSchema) {
        this.readSchema = requiredSchema;
    }

    @Override
    public Scan build() {
        return this;
    }

    @Override
    public StructType readSchema() {
        return readSchema;
    }

    @Override
    public Batch toBatch() {
        return this;
    }

    /**
     * One partition per chunk, preferring the host of the instance holding it ({@code hostname} in
     * {@code cluster_meta}; this host for an instance that names none).
     */
    @Override
    public InputPartition[] planInputPartitions() {
        String[] columns = Arrays.stream(readSchema.fields()).map(StructField::name).toArray(String[]::new);
        try (IpcClient client = IpcClient.connect(socket)) {
            VineyardTableRef ref = VineyardTableRef.resolve(client, name, fetch);
            com.fasterxml.jackson.databind.JsonNode cluster = client.clusterMeta();
            InputPartition[] parts = new InputPartition[ref.chunks().size()];
            for (int i = 0; i < parts.length; i++) {
                String host = cluster.path("i" + ref.instances().get(i)).path("hostname").asText("");
                parts[i] = new Part(socket, name, ref.chunks().get(i).value(), ref.frames(), fetch, columns,
                        new String[] {host.isEmpty() ? localHost() : host});
            }
            return parts;
        }
    }

    private static String localHost() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
        return new Readers();
    }

    /** One chunk of the object {@code name}: a record batch, or a DataFrame ({@code frame}). */
    record Part(String socket, String name, long chunkId, boolean frame, boolean fetch, String[] columns, String[] hosts) implements InputPartition {
        @Override
        public String[] preferredLocations() {
            return hosts.clone();
        }
    }

    /** Columnar readers only. */
    record Readers() implements PartitionReaderFactory {
        @Override
        public PartitionReader<InternalRow> createReader(InputPartition partition) {
            throw new UnsupportedOperationException("format(\"vineyard\") reads columnar batches only");
        }

        @Override
        public boolean supportColumnarReads(InputPartition partition) {
            return true;
        }

        @Override
        public PartitionReader<ColumnarBatch> createColumnarReader(InputPartition partition) {
            return new BatchReader((Part) partition);
        }
    }

    /** Gets one chunk and hands it to Spark as Arrow column vectors over the pool. */
    static final class BatchReader implements PartitionReader<ColumnarBatch> {
        private final Part part;
        private IpcClient client;
        private BufferAllocator allocator;
        private VectorSchemaRoot root;
        private DataFrame frame;
        private ColumnarBatch batch;
        /** The local copy of a chunk fetched from another instance, or null. */
        private ObjectId copy;

        BatchReader(Part part) {
            this.part = part;
        }

        @Override
        public boolean next() {
            if (batch != null) {
                return false;
            }
            client = IpcClient.connect(part.socket());
            ObjectId id = new ObjectId(part.chunkId());
            long holder = client.getMeta(id).instanceId();
            if (holder != client.instanceId()) {
                if (!part.fetch()) {
                    throw new VineyardException(Status.INVALID, "chunk " + id + " of '" + part.name() + "' is on instance " + holder + " (host "
                            + String.join(",", part.hosts()) + "), not on this task's daemon (instance " + client.instanceId() + " at "
                            + part.socket() + "): run the task on that host (its preferred location), or read with option fetch=true");
                }
                copy = client.migrate(id);   // a local copy, deleted at close
                id = copy;
            }
            allocator = new RootAllocator();
            if (part.frame()) {
                frame = client.get(id, DataFrame.class);
                root = DataFrameArrow.toArrow(frame, allocator).batches().getFirst();
            } else {
                root = client.get(id, VectorSchemaRoot.class, allocator);
            }
            ColumnVector[] vectors = new ColumnVector[part.columns().length];
            for (int i = 0; i < vectors.length; i++) {
                vectors[i] = new ArrowColumnVector(root.getVector(part.columns()[i]));
            }
            batch = new ColumnarBatch(vectors, root.getRowCount());
            return true;
        }

        @Override
        public ColumnarBatch get() {
            return batch;
        }

        @Override
        public void close() {
            try {
                if (root != null) {
                    root.close();   // the column vectors are its vectors
                }
                if (frame != null) {
                    frame.close();
                }
                if (allocator != null) {
                    allocator.close();
                }
            } finally {
                if (client != null) {
                    try {
                        if (copy != null) {
                            VineyardTableRef.deleteCopy(client, copy);
                        }
                    } finally {
                        client.close();
                    }
                }
            }
        }
    }
}
