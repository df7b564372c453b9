package io.vineyard.engines;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Java half of {@code bin/pipeline}, the seeds' pipeline end to end: (1) a Java ETL step builds an
 * {@code events} table directly in the pool ({@link PoolAllocator}) and puts it; (2) DuckDB aggregates it
 * in place ({@link VineyardDuckDb}) into {@code user_stats}, put back into vineyard. The Python half
 * (python/examples/pipeline_train.py) then reads {@code user_stats} as pandas and trains a model.
 *
 * <p>Every step checks its values and that the buffers it hands on, or reads, lie in the pool; it prints
 * one line per hand-off ({@code ok}/{@code FAILED}, time) and exits 1 when any check failed.
 *
 * <p>Run: {@code PipelineExample SOCKET [ROWS]}; events: {@code user_id = i % 1000},
 * {@code x = user_id/1000 + u(i)/100}, {@code y = 2x + 1 + (u'(i) - 0.5)/10} with u, u' uniform in [0, 1).
 */
public final class PipelineExample {
    static final int USERS = 1000;
    private int failures;

    private PipelineExample() {
    }

    public static void main(String[] args) {
        String socket = args[0];
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
        PipelineExample p = new PipelineExample();
        try (IpcClient etl = IpcClient.connect(socket); IpcClient sql = IpcClient.connect(socket)) {
            p.run(etl, sql, rows);
        }
        System.exit(p.failures == 0 ? 0 : 1);
    }

    static double uniform(long i) {
        long x = i + 0x9E3779B97F4A7C15L * 7;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return ((x ^ (x >>> 31)) >>> 11) * 0x1.0p-53;
    }

    private void check(boolean ok, String what) {
        if (!ok) {
            failures++;
            System.out.println("   FAILED: " + what);
        }
    }

    private void run(IpcClient etl, IpcClient sql, int rows) {
        double[] sumX = new double[USERS];
        double[] sumY = new double[USERS];
        try (BufferAllocator pool = PoolAllocator.root(etl)) {
            long t0 = System.nanoTime();
            BigIntVector user = new BigIntVector("user_id", pool);
            Float8Vector x = new Float8Vector("x", pool);
            Float8Vector y = new Float8Vector("y", pool);
            user.allocateNew(rows);
            x.allocateNew(rows);
            y.allocateNew(rows);
            for (int i = 0; i < rows; i++) {
                int u = i % USERS;
                double xi = u / (double) USERS + uniform(2L * i) / 100;
                double yi = 2 * xi + 1 + (uniform(2L * i + 1) - 0.5) / 10;
                user.set(i, u);
                x.set(i, xi);
                y.set(i, yi);
                sumX[u] += xi;
                sumY[u] += yi;
            }
            try (VectorSchemaRoot events = new VectorSchemaRoot(List.of(user, x, y))) {
                events.setRowCount(rows);
                long built = System.nanoTime();
                ObjectId id = etl.putNamed(events, "events");
                long put = System.nanoTime();
                boolean inPool = true;
                for (FieldVector v : events.getFieldVectors()) {
                    ArrowBuf data = v.getDataBuffer();
                    inPool &= PoolAllocator.isPoolBuffer(data) && etl.isInSharedMemory(data.memoryAddress(), data.capacity());
                }
                check(inPool, "the ETL table was built in the pool");
                check(etl.getMeta(id).typename().equals("vineyard::RecordBatch"), "events is a vineyard RecordBatch");
                System.out.printf(Locale.ROOT, "1. java ETL -> vineyard 'events': %,d rows built in the pool in %.1f ms, put (seal + describe) in %.2f ms%s%n",
                        rows, ms(built - t0), ms(put - built), failures == 0 ? "  ok" : "");
                aggregate(sql, rows, sumX, sumY);
                etl.dropName("events");
                etl.delete(id);
            }
        }
    }

    private void aggregate(IpcClient sql, int rows, double[] sumX, double[] sumY) {
        int before = failures;
        try (VineyardDuckDb duck = VineyardDuckDb.open(sql); BufferAllocator read = new RootAllocator()) {
            try (VectorSchemaRoot scanned = sql.get("events", VectorSchemaRoot.class, read)) {
                boolean mapped = true;
                for (FieldVector v : scanned.getFieldVectors()) {
                    mapped &= sql.isInSharedMemory(v.getDataBuffer().memoryAddress(), v.getDataBuffer().capacity());
                }
                check(mapped, "the table DuckDB scans lies in the SQL client's mapping of the pool");
            }
            long t0 = System.nanoTime();
            ObjectId stats = duck.queryInto("SELECT user_id, count(*) AS n, avg(x) AS ax, avg(y) AS ay "
                    + "FROM vineyard('events') GROUP BY user_id ORDER BY user_id", "user_stats");
            long t1 = System.nanoTime();
            try (ArrowTable result = sql.get(stats, ArrowTable.class, read)) {
                check(result.rowCount() == USERS, "one row per user: " + result.rowCount());
                List<double[]> wrong = new ArrayList<>();
                int row = 0;
                for (VectorSchemaRoot b : result.batches()) {
                    for (int i = 0; i < b.getRowCount(); i++, row++) {
                        int u = (int) ((BigIntVector) b.getVector("user_id")).get(i);
                        long n = ((BigIntVector) b.getVector("n")).get(i);
                        long expectedN = rows / USERS + (u < rows % USERS ? 1 : 0);
                        double ax = ((Float8Vector) b.getVector("ax")).get(i);
                        double ay = ((Float8Vector) b.getVector("ay")).get(i);
                        if (u != row || n != expectedN || Math.abs(ax - sumX[u] / n) > 1e-9 || Math.abs(ay - sumY[u] / n) > 1e-9) {
                            wrong.add(new double[] {u, n, ax, ay});
                        }
                    }
                }
                check(wrong.isEmpty(), wrong.size() + " user rows differ from the ETL's own sums");
            }
            System.out.printf(Locale.ROOT, "2. duckdb GROUP BY over vineyard('events') -> vineyard 'user_stats': %d rows in %.1f ms%s%n",
                    USERS, ms(t1 - t0), failures == before ? "  ok" : "");
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
