package io.vineyard.bench;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.ArrowTableReader;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.engines.VineyardDuckDb;
import org.apache.arrow.c.ArrowArrayStream;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.duckdb.DuckDBConnection;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The DuckDB rows of {@link PipelineBench}: one GROUP BY ({@code count/sum/count ... GROUP BY i64 & 15})
 * over the pipeline table in vineyard ({@code vineyard('t')}: a get and a scan in place), over a
 * Parquet file on local disk (written by DuckDB with its defaults) and over an Arrow table in this
 * process (registerArrowStream), all in this process; medians of {@code runs}. {@code write_ms}: making
 * the source (put of the pool-built table / COPY TO parquet); {@code total_ms}: the query.
 */
final class DuckDbBench {
    static final String GROUP_BY = "SELECT i64 & 15 AS k, count(*) AS n, sum(f64) AS s, count(s) AS c FROM %s GROUP BY k ORDER BY k";

    private DuckDbBench() {
    }

    static List<String> run(Path socket, Path diskDir, int[] sizes, int runs) throws Exception {
        List<String> out = new ArrayList<>();
        try (IpcClient client = IpcClient.connect(socket.toString()); BufferAllocator pool = PoolAllocator.root(client);
             BufferAllocator heap = new RootAllocator(); VineyardDuckDb duck = VineyardDuckDb.open(client)) {
            DuckDBConnection conn = duck.connection();
            List<ArrowArrayStream> streams = new ArrayList<>();
            for (int rows : sizes) {
                Path parquet = diskDir.resolve("t-" + rows + ".parquet");
                double[][] t = new double[3][runs];
                String[] answers = new String[3];
                double[] writes = new double[3];
                try (VectorSchemaRoot inPool = PipelineTable.build(pool, rows); VectorSchemaRoot local = PipelineTable.build(heap, rows)) {
                    Sources src = sources(client, conn, heap, inPool, local, "duck-t", "local_t", parquet, streams);
                    ObjectId id = src.id();
                    writes[0] = src.putMs();
                    writes[1] = src.parquetMs();
                    long t0;
                    for (int r = 0; r < runs; r++) {
                        t0 = System.nanoTime();
                        try (ArrowTable result = duck.query(String.format(Locale.ROOT, GROUP_BY, "vineyard('duck-t')"))) {
                            t[0][r] = ms(System.nanoTime() - t0);
                            answers[0] = text(result);
                        }
                        t0 = System.nanoTime();
                        answers[1] = query(conn, String.format(Locale.ROOT, GROUP_BY, "read_parquet('" + parquet + "')"));
                        t[1][r] = ms(System.nanoTime() - t0);
                        t0 = System.nanoTime();
                        register(conn, heap, local, "local_t", streams);
                        answers[2] = query(conn, String.format(Locale.ROOT, GROUP_BY, "local_t"));
                        t[2][r] = ms(System.nanoTime() - t0);
                    }
                    client.dropName("duck-t");
                    client.delete(id);
                } finally {
                    streams.forEach(ArrowArrayStream::close);   // before the table's buffers go
                    streams.clear();
                    Files.deleteIfExists(parquet);
                }
                String[] labels = {"duckdb over vineyard('t')", "duckdb over Parquet, local disk", "duckdb over in-process Arrow"};
                for (int i = 0; i < 3; i++) {
                    out.add(String.format(Locale.ROOT, "%-42s %,11d %9s %9s %9s %9.1f  %s", labels[i], rows,
                            i == 2 ? "-" : String.format(Locale.ROOT, "%.1f", writes[i]), "-", "-",
                            SdkBench.median(t[i]), answers[i].equals(answers[2]) ? "same result" : "RESULT DIFFERS: " + answers[i]));
                }
            }
        }
        return out;
    }

    /** The table's two sources: put (pool-built) as {@code id}, and written as a Parquet file, each timed. */
    record Sources(ObjectId id, double putMs, double parquetMs) {
    }

    /**
     * Puts {@code inPool} (a VectorSchemaRoot or an ArrowTable) named {@code name} and writes {@code local} (registered as {@code view}) to
     * {@code parquet} with DuckDB's COPY, timing each.
     */
    static Sources sources(IpcClient client, DuckDBConnection conn, BufferAllocator heap, Object inPool, VectorSchemaRoot local,
                           String name, String view, Path parquet, List<ArrowArrayStream> streams) throws SQLException {
        long t0 = System.nanoTime();
        ObjectId id = client.putNamed(inPool, name);
        double put = ms(System.nanoTime() - t0);
        t0 = System.nanoTime();
        register(conn, heap, local, view, streams);
        exec(conn, "COPY (SELECT * FROM " + view + ") TO '" + parquet + "' (FORMAT parquet)");
        return new Sources(id, put, ms(System.nanoTime() - t0));
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    /**
     * Registers {@code root} as a one-scan DuckDB view (the JDBC driver scans an Arrow stream once),
     * releasing the previous registration's stream kept in {@code streams}.
     */
    private static void register(DuckDBConnection conn, BufferAllocator allocator, VectorSchemaRoot root, String view,
                                 List<ArrowArrayStream> streams) {
        streams.forEach(ArrowArrayStream::close);
        streams.clear();
        ArrowArrayStream stream = ArrowArrayStream.allocateNew(allocator);
        Data.exportArrayStream(allocator, new ArrowTableReader(allocator, ArrowTable.of(root)), stream);
        streams.add(stream);
        conn.registerArrowStream(view, stream);
    }

    private static void exec(DuckDBConnection conn, String sql) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute(sql);
        }
    }

    private static String query(DuckDBConnection conn, String sql) throws SQLException {
        StringBuilder b = new StringBuilder();
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                b.append(rs.getLong(1)).append(':').append(rs.getLong(2)).append(':')
                        .append(String.format(Locale.ROOT, "%.6e", rs.getDouble(3))).append(':').append(rs.getLong(4)).append(' ');
            }
        }
        return b.toString();
    }

    private static String text(ArrowTable t) {
        StringBuilder b = new StringBuilder();
        for (VectorSchemaRoot r : t.batches()) {
            for (int i = 0; i < r.getRowCount(); i++) {
                b.append(((org.apache.arrow.vector.BigIntVector) r.getVector("k")).get(i)).append(':')
                        .append(((org.apache.arrow.vector.BigIntVector) r.getVector("n")).get(i)).append(':')
                        .append(String.format(Locale.ROOT, "%.6e", ((org.apache.arrow.vector.Float8Vector) r.getVector("s")).get(i))).append(':')
                        .append(((org.apache.arrow.vector.BigIntVector) r.getVector("c")).get(i)).append(' ');
            }
        }
        return b.toString();
    }
}
