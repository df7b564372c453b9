package io.vineyard.spark;

import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.SupportsWrite;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/** One vineyard object (by name) as a Spark table: batch reads and appends (a new object per write). */
final class VineyardTable implements SupportsRead, SupportsWrite {
    private final StructType schema;
    private final Map<String, String> properties;

    VineyardTable(StructType schema, Map<String, String> properties) {
        this.schema = schema;
        this.properties = Map.copyOf(properties);
    }

    @Override
    public String name() {
        return "vineyard:" + properties.get("name");
    }

    @Override
    @SuppressWarnings("deprecation")   // Spark 4 still calls it when columns() is not overridden
    public StructType schema() {
        return schema;
    }

    @Override
    public Set<TableCapability> capabilities() {
        return EnumSet.of(TableCapability.BATCH_READ, TableCapability.BATCH_WRITE);
    }

    @Override
    public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
        return new VineyardScan(VineyardSource.option(options, "socket"), VineyardSource.option(options, "name"), schema,
                Boolean.parseBoolean(options.getOrDefault("fetch", "false")));
    }

    @Override
    public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
        return new VineyardWrite(VineyardSource.option(info.options(), "socket"),
                VineyardSource.option(info.options(), "name"), info.schema(), VineyardWrite.Layout.of(info.options().get("layout")));
    }
}
