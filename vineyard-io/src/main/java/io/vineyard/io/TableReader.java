package io.vineyard.io;

import io.vineyard.arrow.ArrowTypes;
import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import org.apache.arrow.c.ArrowSchema;
import org.apache.arrow.c.Data;
import org.apache.arrow.dataset.file.FileSystemDatasetFactory;
import org.apache.arrow.dataset.jni.NativeMemoryPool;
import org.apache.arrow.dataset.scanner.FragmentScanOptions;
import org.apache.arrow.dataset.scanner.ScanOptions;
import org.apache.arrow.dataset.scanner.Scanner;
import org.apache.arrow.dataset.scanner.csv.CsvConvertOptions;
import org.apache.arrow.dataset.scanner.csv.CsvFragmentScanOptions;
import org.apache.arrow.dataset.source.Dataset;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads CSV, Parquet or ORC files into one {@code vineyard::Table}: Arrow C++'s dataset scanner (through
 * arrow-dataset's JNI) decodes the files into batches in its own memory, and each batch is put as a
 * {@code vineyard::RecordBatch} while the next is decoded: one copy, from Arrow's buffers into the pool,
 * and never more than a batch held outside it. The table is created last, over the batches by id; when
 * anything fails, every batch already put is deleted, so a failed read leaves nothing in the daemon.
 */
final class TableReader {
    private static final long DEFAULT_BATCH_ROWS = 1 << 20;
    private static final long DEFAULT_BLOCK_BYTES = 16 << 20;

    private TableReader() {
    }

    /** Receives a scan's decoded batches (one root, reloaded per batch) and makes the result from them. */
    interface BatchSink<R> {
        /** Takes the batch now in {@code root}. */
        void batch(VectorSchemaRoot root);

        /** The result, after the last batch; {@code schema} is the scan's. */
        R finish(Schema schema);

        /** Undoes what the batches made; the scan failed with {@code cause}. */
        void abort(RuntimeException cause);
    }

    static ObjectId read(Client client, String uri, IoOptions o, VineyardIO.Progress progress) {
        return scan(uri, o, new TableSink(client, o.string("name", null), progress));
    }

    /** Scans {@code uri} into {@code sink}; a failure aborts the sink and is thrown as an {@link IoException}. */
    static <R> R scan(String uri, IoOptions o, BatchSink<R> sink) {
        Location loc = Location.of(uri, o.storage());
        String named = o.string("format", null);
        if (named != null) {
            DataFormat.named(loc.uri(), named);
        }
        List<String> files = loc.dataFiles();
        DataFormat format = format(o, loc, files);
        List<String> mine = slice(loc.uri(), files, o);
        try (BufferAllocator allocator = ArrowTypes.defaultAllocator().newChildAllocator("vineyard-io read", 0, Long.MAX_VALUE)) {
            if (mine.isEmpty()) {
                // more readers than files: this one reads none, and makes an empty table of the files' schema
                try (FileSystemDatasetFactory f = factory(allocator, files.toArray(String[]::new), format, o, loc, null)) {
                    return sink.finish(f.inspect());
                }
            }
            return scanInto(allocator, loc, mine, format, o, sink);
        } catch (RuntimeException e) {
            sink.abort(e);
            throw ArrowFailures.classify(loc.uri(), e);
        }
    }

    /** Each batch put as a {@code vineyard::RecordBatch}, then a {@code vineyard::Table} over them; all deleted on failure. */
    private static final class TableSink implements BatchSink<ObjectId> {
        private final Client client;
        private final String name;
        private final VineyardIO.Progress progress;
        private final List<ObjectId> batches = new ArrayList<>();
        private final List<ObjectId> made = new ArrayList<>();
        private long rows;
        private long nbytes;

        TableSink(Client client, String name, VineyardIO.Progress progress) {
            this.client = client;
            this.name = name;
            this.progress = progress;
        }

        @Override
        public void batch(VectorSchemaRoot root) {
            ObjectId b = client.put(root);
            made.add(b);
            batches.add(b);
            rows += root.getRowCount();
            nbytes += client.getMeta(b).nbytes();
            progress.update(nbytes, rows);
        }

        @Override
        public ObjectId finish(Schema schema) {
            ObjectId schemaId = client.put(schema);
            made.add(schemaId);
            ObjectMeta table = new ObjectMeta("vineyard::Table");
            table.put("num_rows_", rows);
            table.put("num_columns_", (long) schema.getFields().size());
            table.put("batch_num_", (long) batches.size());
            table.put("partitions_-size", (long) batches.size());
            table.addMember("schema_", schemaId);
            for (int i = 0; i < batches.size(); i++) {
                table.addMember("partitions_-" + i, batches.get(i));
            }
            table.setNbytes(nbytes);
            return client.putMeta(table, name != null, name).id();
        }

        @Override
        public void abort(RuntimeException cause) {
            if (!made.isEmpty()) {
                try {
                    client.delete(made.toArray(ObjectId[]::new));
                } catch (RuntimeException cleanup) {
                    cause.addSuppressed(cleanup);
                }
            }
        }
    }

    /**
     * vineyard's partial read ({@code SetPartialRead(index, total)}, the drivers' {@code proc_index} of
     * {@code proc_num}): reader {@code i} of {@code n} takes files {@code i, i + n, ...} of the sorted list.
     */
    private static List<String> slice(String uri, List<String> files, IoOptions o) {
        long total = o.number("proc_num", 1);
        long index = o.number("proc_index", 0);
        if (total < 1 || index < 0 || index >= total) {
            throw new IoException.Unsupported(uri, "proc_index " + index + " of proc_num " + total + " (0 <= proc_index < proc_num)");
        }
        if (total > 1 && files.size() == 1 && !uri.toLowerCase(Locale.ROOT).startsWith("s3://")) {
            throw new IoException.Unsupported(uri, "a partial read of one file (slices are whole files of a directory or glob)");
        }
        List<String> mine = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            if (i % total == index) {
                mine.add(files.get(i));
            }
        }
        return mine;
    }

    private static DataFormat format(IoOptions o, Location loc, List<String> files) {
        String named = o.string("format", null);
        if (named != null) {
            return DataFormat.named(loc.uri(), named);
        }
        DataFormat f = DataFormat.ofPath(loc.uri());
        if (f == null && !files.isEmpty()) {
            f = DataFormat.ofPath(files.getFirst());
        }
        if (f == null) {
            throw new IoException.Unsupported(loc.uri(), "no format: give format= (csv, parquet, orc) or a file extension");
        }
        return f;
    }

    private static <R> R scanInto(BufferAllocator allocator, Location loc, List<String> files, DataFormat format,
                                  IoOptions o, BatchSink<R> sink) {
        String[] uris = files.toArray(String[]::new);
        Schema fileSchema;
        try (FileSystemDatasetFactory f = factory(allocator, uris, format, o, loc, null)) {
            fileSchema = f.inspect();
        }
        List<String> columns = columns(loc.uri(), fileSchema, o);
        Schema types = columnTypes(loc.uri(), columns, fileSchema, o);
        long batchRows = o.number("batch_rows", DEFAULT_BATCH_ROWS);
        try (FileSystemDatasetFactory f = factory(allocator, uris, format, o, loc, types);
             Dataset dataset = f.finish();
             Scanner scanner = dataset.newScan(new ScanOptions(batchRows, Optional.ofNullable(columns == null ? null : columns.toArray(String[]::new))));
             ArrowReader reader = scanner.scanBatches()) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            while (reader.loadNextBatch()) {
                if (root.getRowCount() > 0) {
                    sink.batch(root);
                }
            }
            return sink.finish(root.getSchema());
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IoException(loc.uri(), null, e.toString(), e);
        }
    }

    private static FileSystemDatasetFactory factory(BufferAllocator allocator, String[] uris, DataFormat format,
                                                    IoOptions o, Location loc, Schema types) {
        Optional<FragmentScanOptions> fragment = Optional.empty();
        if (format == DataFormat.CSV) {
            char fallback = loc.uri().toLowerCase(Locale.ROOT).endsWith(".tsv") ? '\t' : ',';
            Map<String, String> parse = new LinkedHashMap<>();
            parse.put("delimiter", String.valueOf(o.delimiter(fallback)));
            Map<String, String> read = new LinkedHashMap<>();
            read.put("block_size", Long.toString(o.number("block_size", DEFAULT_BLOCK_BYTES)));
            if (!o.bool("header_row", true)) {
                read.put("autogenerate_column_names", "true");
            }
            Map<String, String> convert = new LinkedHashMap<>();
            String nulls = o.string("null_values", null);
            if (nulls != null) {
                convert.put("null_values", nulls);
                convert.put("strings_can_be_null", "true");
            }
            CsvConvertOptions convertOptions = new CsvConvertOptions(convert);
            if (types != null) {
                // Arrow imports (and releases) the exported schema when the factory is made; the struct is ours
                try (ArrowSchema c = ArrowSchema.allocateNew(allocator)) {
                    Data.exportSchema(allocator, types, null, c);
                    convertOptions.setArrowSchema(c);
                    return new FileSystemDatasetFactory(allocator, NativeMemoryPool.getDefault(), format.arrow(), uris,
                            Optional.of(new CsvFragmentScanOptions(convertOptions, read, parse)));
                }
            }
            fragment = Optional.of(new CsvFragmentScanOptions(convertOptions, read, parse));
        }
        return new FileSystemDatasetFactory(allocator, NativeMemoryPool.getDefault(), format.arrow(), uris, fragment);
    }

    /** The columns to read, in order ({@code schema}, names or indices, plus the rest with include_all_columns), or null for all. */
    private static List<String> columns(String uri, Schema fileSchema, IoOptions o) {
        List<String> wanted = o.list("schema");
        if (wanted == null || wanted.isEmpty() || (wanted.size() == 1 && wanted.getFirst().isEmpty())) {
            return null;
        }
        List<String> names = fileSchema.getFields().stream().map(Field::getName).toList();
        List<String> out = new ArrayList<>();
        for (String w : wanted) {
            String name = w;
            if (!w.isEmpty() && w.chars().allMatch(Character::isDigit) && !names.contains(w)) {
                int i = Integer.parseInt(w);
                if (i >= names.size()) {
                    throw new IoException.Unsupported(uri, "schema column index " + i + " is out of range: the file has " + names.size() + " columns");
                }
                name = names.get(i);
            }
            if (!names.contains(name)) {
                throw new IoException.Unsupported(uri, "schema names column '" + name + "', the file has " + names);
            }
            out.add(name);
        }
        if (o.bool("include_all_columns", false)) {
            names.stream().filter(n -> !out.contains(n)).forEach(out::add);
        }
        return out;
    }

    /** CSV column_types as a schema of (name, type) for Arrow's converter, or null. */
    private static Schema columnTypes(String uri, List<String> columns, Schema fileSchema, IoOptions o) {
        List<String> types = o.list("column_types");
        if (types == null) {
            return null;
        }
        List<String> names = columns != null ? columns : fileSchema.getFields().stream().map(Field::getName).toList();
        if (types.size() > names.size()) {
            throw new IoException.Unsupported(uri, types.size() + " column_types for " + names.size() + " columns");
        }
        List<Field> fields = new ArrayList<>();
        for (int i = 0; i < types.size(); i++) {
            if (!types.get(i).isEmpty()) {
                fields.add(Field.nullable(names.get(i), arrowType(uri, types.get(i))));
            }
        }
        return new Schema(fields);
    }

    /** vineyard's type names ({@code type_name_to_arrow_type}) and numpy's, as Arrow types. */
    static ArrowType arrowType(String uri, String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "bool", "boolean" -> ArrowType.Bool.INSTANCE;
            case "int8", "int8_t" -> new ArrowType.Int(8, true);
            case "int16", "int16_t" -> new ArrowType.Int(16, true);
            case "int", "int32", "int32_t" -> new ArrowType.Int(32, true);
            case "int64", "int64_t", "long" -> new ArrowType.Int(64, true);
            case "uint8", "uint8_t" -> new ArrowType.Int(8, false);
            case "uint16", "uint16_t" -> new ArrowType.Int(16, false);
            case "uint", "uint32", "uint32_t" -> new ArrowType.Int(32, false);
            case "uint64", "uint64_t" -> new ArrowType.Int(64, false);
            case "float", "float32" -> new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
            case "double", "float64" -> new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
            case "string", "str", "std::string", "utf8" -> ArrowType.Utf8.INSTANCE;
            case "large_string", "large_utf8" -> ArrowType.LargeUtf8.INSTANCE;
            default -> throw new IoException.Unsupported(uri, "column type '" + name + "' (bool, int8..int64, uint8..uint64, float, double, string, large_string)");
        };
    }
}
