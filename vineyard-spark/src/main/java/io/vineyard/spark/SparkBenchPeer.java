package io.vineyard.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import static org.apache.spark.sql.functions.bit_xor;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;

/**
 * The Spark consumer of {@code bin/bench-pipeline} (vineyard-bench's {@code SparkBench}), in a JVM of its
 * own with Spark local[2]: reads the pipeline table ({@code i64}, {@code f64}, {@code s}) and checksums
 * it with one aggregation ({@code count(*)}, {@code bit_xor(i64)}, {@code sum(f64)}, {@code count(s)}).
 * One command a line on stdin, one answer line on stdout (Spark logs to stderr):
 * <pre>
 *   vineyard SOCKET NAME | parquet PATH  ->  ok GO_NS LOADED_NS DONE_NS ROWS XOR SUM NON_NULL
 *   exit
 * </pre>
 * {@code LOADED_NS}: the Dataset is usable (schema resolved, plan made: Spark reads lazily, so the scan is
 * in {@code DONE_NS}); times are {@code System.nanoTime()} (CLOCK_MONOTONIC, as the other peers').
 */
public final class SparkBenchPeer {
    private SparkBenchPeer() {
    }

    /** Serves the commands above until {@code exit} or the end of stdin. */
    public static void main(String[] args) throws Exception {
        SparkSession spark = SparkSession.builder().master("local[2]").appName("vineyard-bench-pipeline")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.equals("exit")) {
            String[] c = line.split(" ");
            long go = System.nanoTime();
            Dataset<Row> df = switch (c[0]) {
                case "vineyard" -> spark.read().format("vineyard").option("socket", c[1]).option("name", c[2]).load();
                case "parquet" -> spark.read().parquet(c[1]);
                default -> throw new IllegalArgumentException("unknown command " + line);
            };
            long loaded = System.nanoTime();
            Row r = df.agg(count(lit(1)), bit_xor(col("i64")), sum(col("f64")), count(col("s"))).first();
            long done = System.nanoTime();
            System.out.printf(Locale.ROOT, "ok %d %d %d %d %d %.6e %d%n", go, loaded, done, r.getLong(0), r.getLong(1), r.getDouble(2), r.getLong(3));
            System.out.flush();
        }
        spark.stop();
    }
}
