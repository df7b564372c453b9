package io.vineyard.engines;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.ArrowTableReader;
import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.apache.arrow.c.ArrowArrayStream;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Schema;
import org.duckdb.DuckDBConnection;
import org.duckdb.DuckDBResultSet;

import java.io.IOException;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * DuckDB SQL over vineyard objects, read in place: a query names a vineyard Table, RecordBatch or DataFrame as
 * {@code vineyard('name')}, and DuckDB scans the object's blobs through the Arrow C stream interface
 * ({@code registerArrowStream}), with no copy on our side. Results come back as an {@link ArrowTable}, or
 * go into vineyard as a new {@code vineyard::Table}.
 *
 * <pre>{@code
 * try (VineyardDuckDb duck = VineyardDuckDb.open(client)) {
 *     ObjectId sums = duck.queryInto("SELECT k, sum(v) AS s FROM vineyard('events') GROUP BY k", "sums");
 * }
 * }</pre>
 *
 * <p>Design note. DuckDB's JDBC driver scans a registered Arrow stream once, so every query registers
 * fresh streams (a temporary view per {@code vineyard('...')}, dropped after the query) over a get of the
 * object made for that query; the get's buffers are released when DuckDB releases the stream. A result
 * is DuckDB's own memory, imported through the C data interface, and copied once into blobs by the put.
 * One session is one DuckDB connection: not for concurrent use.
 */
public final class VineyardDuckDb implements AutoCloseable {
    private static final Pattern VINEYARD_CALL = Pattern.compile("vineyard\\(\\s*'((?:[^']|'')*)'\\s*\\)");
    private static final AtomicLong VIEWS = new AtomicLong();
    private static final long RESULT_BATCH_ROWS = 1 << 16;

    private final Client client;
    private final DuckDBConnection connection;
    private final boolean ownsConnection;
    private final BufferAllocator allocator = new RootAllocator();
    /** Streams of {@link #registerView}: released at close (a view may be scanned any time before). */
    private final List<Registered> sessionStreams = new ArrayList<>();

    /** One registered view's stream and the table it reads (closed after the stream is released). */
    private record Registered(ArrowArrayStream stream, ArrowTable table, AutoCloseable holder) implements AutoCloseable {
        @Override
        public void close() {
            try {
                if (stream != null) {
                    stream.close();
                }
            } finally {
                table.close();
                if (holder != table) {
                    try {
                        holder.close();
                    } catch (Exception e) {
                        throw new VineyardException(Status.INVALID, "releasing " + holder, e);
                    }
                }
            }
        }
    }

    private VineyardDuckDb(Client client, DuckDBConnection connection, boolean ownsConnection) {
        this.client = client;
        this.connection = connection;
        this.ownsConnection = ownsConnection;
    }

    /** A session over a new in-memory DuckDB database. */
    public static VineyardDuckDb open(Client client) {
        try {
            return new VineyardDuckDb(client, (DuckDBConnection) DriverManager.getConnection("jdbc:duckdb:"), true);
        } catch (SQLException e) {
            throw new VineyardException(Status.INVALID, "cannot open an in-memory DuckDB database", e);
        }
    }

    /** A session over the caller's DuckDB connection (left open by {@link #close()}). */
    public static VineyardDuckDb over(DuckDBConnection connection, Client client) {
        return new VineyardDuckDb(client, connection, false);
    }

    /** The DuckDB connection. */
    public DuckDBConnection connection() {
        return connection;
    }

    /**
     * Runs {@code sql}, in which {@code vineyard('name')} stands for the vineyard object of that name (a
     * Table or RecordBatch), and returns the result; the caller closes it.
     *
     * @throws VineyardException.ObjectNotExists when a named object does not exist
     * @throws VineyardException with {@link Status#INVALID} when DuckDB refuses the query
     */
    public ArrowTable query(String sql) {
        List<String> views = new ArrayList<>();
        List<Registered> streams = new ArrayList<>();
        try (Statement st = connection.createStatement()) {
            String rewritten = registerViews(sql, views, streams);
            try (DuckDBResultSet rs = (DuckDBResultSet) st.executeQuery(rewritten);
                 ArrowReader reader = (ArrowReader) rs.arrowExportStream(allocator, RESULT_BATCH_ROWS)) {
                return collect(reader);
            }
        } catch (SQLException | IOException e) {
            throw new VineyardException(Status.INVALID, "duckdb: " + e.getMessage() + " (in: " + sql + ")", e);
        } finally {
            dropViews(views, streams);
        }
    }

    /** Runs {@code sql} as {@link #query} does and puts the result into vineyard as a Table named {@code name}. */
    public ObjectId queryInto(String sql, String name) {
        try (ArrowTable result = query(sql)) {
            return client.put(result, name == null ? PutOptions.none() : PutOptions.named(name));
        }
    }

    /**
     * Names the vineyard object {@code vineyardName} as the DuckDB view {@code view} for one scan (DuckDB's
     * JDBC driver scans an Arrow stream once): for SQL that cannot use {@code vineyard('...')}. The object
     * stays held until the session closes.
     *
     * @throws VineyardException.ObjectNotExists when no object has that name
     */
    public void registerView(String view, String vineyardName) {
        register(view, vineyardName, sessionStreams);
    }

    private void register(String view, String vineyardName, List<Registered> owner) {
        Got got = getTable(vineyardName);
        Registered r;
        try {
            r = new Registered(ArrowArrayStream.allocateNew(allocator), got.table(), got.holder());
        } catch (RuntimeException e) {
            new Registered(null, got.table(), got.holder()).close();
            throw e;
        }
        try {
            Data.exportArrayStream(allocator, new ArrowTableReader(allocator, got.table()), r.stream());
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
        owner.add(r);   // DuckDB reads the struct at scan time: it lives until then
        ArrowArrayStream stream = r.stream();
        connection.registerArrowStream(view, stream);
    }

    /** A got object as a table, and what holds its blobs (the table itself, or a DataFrame under it). */
    private record Got(ArrowTable table, AutoCloseable holder) {
    }

    /**
     * The named Table, RecordBatch (a table of one batch) or DataFrame (its columns as vectors over the
     * tensors' blobs, strings over their LargeStringArray; see {@code DataFrameTable}), read in place.
     */
    private Got getTable(String name) {
        ObjectId id = client.getName(name);
        String typename = client.getMeta(id).typename();
        if (typename.startsWith("vineyard::RecordBatch")) {
            ArrowTable t = ArrowTable.of(client.get(id, VectorSchemaRoot.class, allocator));
            return new Got(t, t);
        }
        // a Table, or a DataFrame with every pandas column type (DataFrameTable)
        ArrowTable t = client.get(id, ArrowTable.class, allocator);
        return new Got(t, t);
    }

    private String registerViews(String sql, List<String> views, List<Registered> streams) {
        Matcher m = VINEYARD_CALL.matcher(sql);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String view = "__vineyard_" + VIEWS.incrementAndGet();
            register(view, m.group(1).replace("''", "'"), streams);
            views.add(view);
            m.appendReplacement(out, Matcher.quoteReplacement("\"" + view + "\""));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Drops views and releases their streams (and so the gets' buffers, unless DuckDB did already). */
    private void dropViews(List<String> views, List<Registered> streams) {
        for (String view : views) {
            try (Statement st = connection.createStatement()) {
                st.execute("DROP VIEW IF EXISTS \"" + view + "\"");
            } catch (SQLException e) {
                // the connection is gone; its views with it
            }
        }
        streams.forEach(Registered::close);
        streams.clear();
    }

    /** Every batch of {@code reader}, moved (not copied) into roots of their own. */
    private ArrowTable collect(ArrowReader reader) throws IOException {
        List<VectorSchemaRoot> batches = new ArrayList<>();
        try {
            Schema schema = reader.getVectorSchemaRoot().getSchema();
            while (reader.loadNextBatch()) {
                VectorSchemaRoot src = reader.getVectorSchemaRoot();
                VectorSchemaRoot own = VectorSchemaRoot.create(schema, allocator);
                try (ArrowRecordBatch batch = new VectorUnloader(src).getRecordBatch()) {
                    new VectorLoader(own).load(batch);
                }
                batches.add(own);
            }
            return new ArrowTable(schema, batches);
        } catch (IOException | RuntimeException e) {
            batches.forEach(VectorSchemaRoot::close);
            throw e;
        }
    }

    /** Closes the session's allocator (throws when a result is still open) and an owned connection. */
    @Override
    public void close() {
        try {
            dropViews(List.of(), sessionStreams);
            if (ownsConnection) {
                connection.close();
            }
        } catch (SQLException e) {
            throw new VineyardException(Status.INVALID, "closing the DuckDB connection", e);
        } finally {
            allocator.close();
        }
    }
}
