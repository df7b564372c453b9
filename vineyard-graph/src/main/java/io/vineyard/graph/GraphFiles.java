package io.vineyard.graph;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;
import io.vineyard.common.VineyardException;
import io.vineyard.io.VineyardIO;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.util.VectorSchemaRootAppender;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads a property graph from files: each vertex and edge file (CSV, Parquet or ORC, a directory or a glob,
 * local or {@code s3://}) is read through vineyard-io's drivers ({@link VineyardIO#read}) into a
 * {@code vineyard::Table}, and the tables go to {@link GraphLoader} as its vertex and edge tables; the
 * intermediate tables are deleted afterwards, whatever happens.
 *
 * <pre>{@code
 * ObjectId group = GraphFiles.builder()
 *         .vertices("person", dir + "/person.csv")                // an "id" column + properties
 *         .edges("knows", "person", "person", dir + "/knows.parquet")   // "src", "dst" + properties
 *         .options(Map.of("header_row", true))                   // vineyard-io's read options, for every file
 *         .fragments(2)
 *         .load(client);
 * }</pre>
 *
 * <p>Column names come from the files (a CSV's header row); ids are int64 or strings as the reader types
 * them. A table read in several batches is appended into one before it is loaded (the only copy: a
 * single-batch table is loaded from the daemon's memory in place). All or nothing, as {@link GraphLoader}:
 * a file that cannot be read fails the load with vineyard-io's {@code IoException} before the graph is
 * written.
 */
public final class GraphFiles {
    private final Map<String, String> vertexFiles = new LinkedHashMap<>();
    private final List<EdgeFile> edgeFiles = new ArrayList<>();
    private Map<String, ?> options = Map.of();
    private int fragments = 1;
    private boolean directed = true;

    /** One edge label's file. */
    private record EdgeFile(String label, String srcLabel, String dstLabel, String uri) {
    }

    private GraphFiles() {
    }

    /** A new file loader. */
    public static GraphFiles builder() {
        return new GraphFiles();
    }

    /** The vertices of {@code label} from {@code uri}. */
    public GraphFiles vertices(String label, String uri) {
        if (vertexFiles.putIfAbsent(label, uri) != null) {
            throw new VineyardException.Invalid("vertex label " + label + " is given twice");
        }
        return this;
    }

    /** The edges of {@code label} from {@code srcLabel} to {@code dstLabel}, from {@code uri}. */
    public GraphFiles edges(String label, String srcLabel, String dstLabel, String uri) {
        edgeFiles.add(new EdgeFile(label, srcLabel, dstLabel, uri));
        return this;
    }

    /** Edges of the default label between vertices of the default label. */
    public GraphFiles edges(String uri) {
        return edges(GraphLoader.DEFAULT_LABEL, GraphLoader.DEFAULT_LABEL, GraphLoader.DEFAULT_LABEL, uri);
    }

    /** vineyard-io's read options ({@code delimiter}, {@code header_row}, {@code column_types}, ...), for every file. */
    public GraphFiles options(Map<String, ?> options) {
        this.options = Map.copyOf(options);
        return this;
    }

    /** The number of fragments (1 by default). */
    public GraphFiles fragments(int n) {
        this.fragments = n;
        return this;
    }

    /** Directed (the default) or undirected. */
    public GraphFiles directed(boolean directed) {
        this.directed = directed;
        return this;
    }

    /** Reads the files, loads the graph and returns its {@code vineyard::ArrowFragmentGroup}'s id. */
    public ObjectId load(Client client) {
        List<ObjectId> read = new ArrayList<>();
        List<AutoCloseable> open = new ArrayList<>();
        try (BufferAllocator allocator = new RootAllocator()) {
            try {
                GraphLoader loader = GraphLoader.builder().fragments(fragments).directed(directed);
                for (Map.Entry<String, String> v : vertexFiles.entrySet()) {
                    loader.vertices(v.getKey(), table(client, v.getValue(), read, open, allocator));
                }
                for (EdgeFile e : edgeFiles) {
                    loader.edges(e.label(), e.srcLabel(), e.dstLabel(), table(client, e.uri(), read, open, allocator));
                }
                return loader.load(client);
            } finally {
                RuntimeException first = null;
                for (int i = open.size() - 1; i >= 0; i--) {
                    try {
                        open.get(i).close();
                    } catch (Exception e) {
                        first = first == null ? new IllegalStateException("closing a table read from a file", e) : first;
                    }
                }
                for (ObjectId id : read) {
                    client.delete(id);
                }
                if (first != null) {
                    throw first;
                }
            }
        }
    }

    /** The file's rows as one batch: the daemon's own when there is one batch, else appended into a new one. */
    private VectorSchemaRoot table(Client client, String uri, List<ObjectId> read, List<AutoCloseable> open,
                                   BufferAllocator allocator) {
        ObjectId id = VineyardIO.read(client, uri, options);
        read.add(id);
        ArrowTable t = client.get(id, ArrowTable.class);
        open.add(t);
        List<VectorSchemaRoot> batches = t.batches();
        if (batches.size() == 1) {
            return batches.getFirst();
        }
        VectorSchemaRoot all = VectorSchemaRoot.create(t.schema(), allocator);
        open.add(all);
        all.allocateNew();
        VectorSchemaRootAppender.append(all, batches.toArray(VectorSchemaRoot[]::new));
        return all;
    }
}
