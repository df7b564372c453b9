package io.vineyard.spark;

import io.vineyard.client.IpcClient;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

import java.util.Map;

/**
 * Spark's {@code format("vineyard")}: reads a vineyard Table or RecordBatch as columnar batches of
 * {@code ArrowColumnVector}s over the daemon's pool (one partition per record batch, only the columns the
 * query needs), and writes a Dataset as a vineyard GlobalDataFrame of one DataFrame per partition (or,
 * with {@code layout=table}, a Table of one RecordBatch per partition), built in the pool, persisted and named.
 *
 * <pre>{@code
 * Dataset<Row> df = spark.read().format("vineyard").option("socket", sock).option("name", "events").load();
 * df.write().format("vineyard").option("socket", sock).option("name", "copy").mode("append").save();
 * }</pre>
 *
 * Options: {@code socket} (the daemon's IPC socket, reachable from every executor: executors run where
 * the daemon runs, which {@code preferredLocations} tells the scheduler), {@code name}; for reads
 * {@code fetch} ({@code true}: a chunk on another instance is migrated here, read, and its copy deleted);
 * for writes {@code layout} ({@code dataframe}, the default, or {@code table}).
 */
public final class VineyardSource implements TableProvider, DataSourceRegister {
    /** Service constructor. */
    public VineyardSource() {
    }

    @Override
    public String shortName() {
        return "vineyard";
    }

    static String option(Map<String, String> options, String key) {
        String v = options.get(key);
        if (v == null || v.isEmpty()) {
            throw new VineyardException.Invalid("format(\"vineyard\") needs the option '" + key + "'");
        }
        return v;
    }

    @Override
    public StructType inferSchema(CaseInsensitiveStringMap options) {
        try (IpcClient client = IpcClient.connect(option(options, "socket"))) {
            return toSpark(VineyardTableRef.resolve(client, option(options, "name"), options.getBoolean("fetch", false)).schema());
        }
    }

    static StructType toSpark(org.apache.arrow.vector.types.pojo.Schema schema) {
        try {
            return ArrowUtils.fromArrowSchema(schema);
        } catch (RuntimeException e) {
            throw new VineyardException(Status.TYPE_ERROR, "spark cannot map the arrow schema " + schema + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
        return new VineyardTable(schema, properties);
    }

    @Override
    public boolean supportsExternalMetadata() {
        return true;   // a write names the schema of the Dataset, not of an object that exists
    }
}
