package io.vineyard.io;

import io.vineyard.arrow.ArrowTypes;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.client.Client;
import io.vineyard.client.IpcClient;
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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads CSV, Parquet or ORC files into one {@code vineyard::Table}: Arrow C++'s dataset scanner (through
 * arrow-dataset's JNI) decodes the files into batches in its own memory, which are joined into batches of
 * about {@code batch_rows} rows built in pool blobs ({@link BatchJoiner}) and put as
 * {@code vineyard::RecordBatch}es while the scan goes on: one copy, from Arrow's buffers into the pool,
 * and never more than one joined batch held outside it. The table is created last, over the batches by id; when
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
        return scan(uri, o, new TableSink(client, o.string("name", null), false, progress, o.number("batch_rows", DEFAULT_BATCH_ROWS)));
    }

    /**
     * What a read takes: the source's data files, the format, this reader's share of the files (every
     * {@code proc_num}-th, from {@code proc_index}) and, for a partial read of one file, the batch slice.
     *
     * @param files      every data file of the source (Arrow URIs, or hdfs:// URIs)
     * @param mine       this reader's files
     * @param sliceIndex with {@code sliceTotal > 1}: this reader takes batches {@code sliceIndex, sliceIndex + sliceTotal, ...}
     */
    record Plan(Location loc, IoOptions o, DataFormat format, List<String> files, List<String> mine, long sliceIndex, long sliceTotal) {
        static Plan of(String uri, IoOptions o) {
            Location loc = Location.of(uri, o.storage());
            String named = o.string("format", null);
            if (named != null) {
                DataFormat.named(loc.uri(), named);
            }
            long total = o.number("proc_num", 1);
            long index = o.number("proc_index", 0);
            if (total < 1 || index < 0 || index >= total) {
                throw new IoException.Unsupported(loc.uri(), "proc_index " + index + " of proc_num " + total + " (0 <= proc_index < proc_num)");
            }
            List<String> files = loc.dataFiles(o.storage());
            DataFormat format = TableReader.format(o, loc, files);
            if (files.size() == 1 && total > 1) {
                // one file among several readers: each takes every total-th batch of it
                return new Plan(loc, o, format, files, files, index, total);
            }
            List<String> mine = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                if (i % total == index) {
                    mine.add(files.get(i));
                }
            }
            return new Plan(loc, o, format, files, mine, 0, 1);
        }
    }

    /** Scans {@code uri} into {@code sink}; a failure aborts the sink and is thrown as an {@link IoException}. */
    static <R> R scan(String uri, IoOptions o, BatchSink<R> sink) {
        Plan plan = Plan.of(uri, o);
        return scanFiles(plan, plan.mine(), sink);
    }

    /** Scans {@code files} of {@code plan} (none: an empty table of the source's schema) into {@code sink}. */
    static <R> R scanFiles(Plan plan, List<String> files, BatchSink<R> sink) {
        Location loc = plan.loc();
        try (BufferAllocator allocator = ArrowTypes.defaultAllocator().newChildAllocator("vineyard-io read", 0, Long.MAX_VALUE);
             Staged local = Staged.of(loc, plan.o(), files.isEmpty() ? plan.files().subList(0, 1) : files)) {
            try {
                if (files.isEmpty()) {
                    // more readers than files: this one reads none, and makes an empty table of the files' schema
                    try (FileSystemDatasetFactory f = factory(allocator, local.uris().toArray(String[]::new), plan.format(), plan.o(), loc, null)) {
                        return sink.finish(f.inspect());
                    }
                }
                return scanInto(allocator, plan, local.uris(), sink);
            } catch (RuntimeException e) {
                throw local.named(ArrowFailures.classify(loc.uri(), e));
            }
        } catch (RuntimeException e) {
            sink.abort(e);
            throw ArrowFailures.classify(loc.uri(), e);
        }
    }

    /**
     * Reads into persisted chunks, one {@code vineyard::Table} per file ({@code chunks=file}) or per decoded
     * batch, which is a Parquet row group or an ORC stripe when {@code batch_rows} does not cut it
     * ({@code chunks=batch} or {@code row_group}); this reader's files are scanned in parallel
     * ({@code parallelism}, default one thread per file up to the cores). All or nothing: when one file
     * fails, every chunk made is deleted.
     *
     * @return the chunks' ids, in file order (batch order within a file)
     */
    static List<ObjectId> readChunks(Client client, String uri, IoOptions o, VineyardIO.Progress progress) {
        Plan plan = Plan.of(uri, o);
        String mode = o.string("chunks", "file").toLowerCase(Locale.ROOT);
        boolean perBatch = switch (mode) {
            case "file", "true" -> false;
            case "batch", "row_group", "stripe" -> true;
            default -> throw new IoException.Unsupported(plan.loc().uri(), "chunks=" + mode + " (file, batch, row_group)");
        };
        List<String> mine = plan.mine();
        if (mine.isEmpty()) {
            return List.of();
        }
        int threads = (int) Math.max(1, Math.min(mine.size(), o.number("parallelism", Runtime.getRuntime().availableProcessors())));
        SharedProgress shared = new SharedProgress(progress);
        List<List<ObjectId>> made = new ArrayList<>();
        List<java.util.concurrent.Future<List<ObjectId>>> futures = new ArrayList<>();
        try (java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads,
                Thread.ofPlatform().name("vineyard-io-read-", 0).daemon(true).factory())) {
            for (String file : mine) {
                futures.add(pool.submit(() -> {
                    BatchSink<List<ObjectId>> sink = perBatch ? new ChunkPerBatch(client, shared.part())
                            : new OneChunk(new TableSink(client, null, true, shared.part(), o.number("batch_rows", DEFAULT_BATCH_ROWS)));
                    return scanFiles(plan, List.of(file), sink);
                }));
            }
            RuntimeException failure = null;
            for (java.util.concurrent.Future<List<ObjectId>> f : futures) {
                try {
                    made.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : new IoException(plan.loc().uri(), null, e.getCause().toString(), e.getCause());
                    if (failure == null) {
                        failure = cause;
                    } else {
                        failure.addSuppressed(cause);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure = new IoException(plan.loc().uri(), null, "interrupted", e);
                    pool.shutdownNow();
                }
            }
            if (failure != null) {
                deleteAll(client, made.stream().flatMap(List::stream).toList(), failure);
                throw ArrowFailures.classify(plan.loc().uri(), failure);
            }
        }
        return made.stream().flatMap(List::stream).toList();
    }

    /** Deletes what a failed read made (with its members); a failure to is added to {@code cause}. */
    static void deleteAll(Client client, List<ObjectId> ids, RuntimeException cause) {
        if (!ids.isEmpty()) {
            try {
                client.delete(ids.toArray(ObjectId[]::new));
            } catch (RuntimeException cleanup) {
                cause.addSuppressed(cleanup);
            }
        }
    }

    /** The progress of parallel scans, summed: each scan reports its own totals to a {@link #part()}. */
    private static final class SharedProgress {
        private final VineyardIO.Progress progress;
        private long bytes;
        private long rows;

        SharedProgress(VineyardIO.Progress progress) {
            this.progress = progress;
        }

        VineyardIO.Progress part() {
            long[] last = new long[2];
            return (b, r) -> {
                synchronized (this) {
                    bytes += b - last[0];
                    rows += r - last[1];
                    last[0] = b;
                    last[1] = r;
                    progress.update(bytes, rows);
                }
            };
        }
    }

    /** A file's batches as one chunk (a table). */
    private record OneChunk(TableSink table) implements BatchSink<List<ObjectId>> {
        @Override
        public void batch(VectorSchemaRoot root) {
            table.batch(root);
        }

        @Override
        public List<ObjectId> finish(Schema schema) {
            return List.of(table.finish(schema));
        }

        @Override
        public void abort(RuntimeException cause) {
            table.abort(cause);
        }
    }

    /** Each batch its own chunk: a persisted table of one batch. */
    private static final class ChunkPerBatch implements BatchSink<List<ObjectId>> {
        private final Client client;
        private final VineyardIO.Progress progress;
        private final List<ObjectId> chunks = new ArrayList<>();
        private long bytes;
        private long rows;

        ChunkPerBatch(Client client, VineyardIO.Progress progress) {
            this.client = client;
            this.progress = progress;
        }

        @Override
        public void batch(VectorSchemaRoot root) {
            TableSink one = new TableSink(client, null, true, (b, r) -> progress.update(bytes + b, rows + r), 1);
            one.batch(root);
            try {
                chunks.add(one.finish(root.getSchema()));
            } catch (RuntimeException e) {
                one.abort(e);
                throw e;
            }
            bytes += one.nbytes;
            rows += one.rows;
        }

        @Override
        public List<ObjectId> finish(Schema schema) {
            return List.copyOf(chunks);
        }

        @Override
        public void abort(RuntimeException cause) {
            deleteAll(client, chunks, cause);
        }
    }

    /**
     * The scan's batches joined into batches of about {@code batch_rows} rows ({@link BatchJoiner}), each
     * built in pool memory (over IPC) and put as a {@code vineyard::RecordBatch}, then a
     * {@code vineyard::Table} over them; all deleted on failure. A schema with nested columns is put
     * batch by batch, as the scan gives them.
     */
    private static final class TableSink implements BatchSink<ObjectId> {
        private final Client client;
        private final String name;
        private final boolean persist;
        private final VineyardIO.Progress progress;
        private final BatchJoiner joiner;
        private final List<ObjectId> batches = new ArrayList<>();
        private final List<ObjectId> made = new ArrayList<>();
        /** Where joined batches are built: the pool over IPC; null until the first join. */
        private BufferAllocator joined;
        private Boolean joining;
        private long rows;
        private long nbytes;

        TableSink(Client client, String name, boolean persist, VineyardIO.Progress progress, long batchRows) {
            this.client = client;
            this.name = name;
            this.persist = persist || name != null;
            this.progress = progress;
            this.joiner = new BatchJoiner(batchRows);
        }

        @Override
        public void batch(VectorSchemaRoot root) {
            if (joining == null) {
                joining = BatchJoiner.joins(root);
            }
            if (!joining) {
                put(root);
                return;
            }
            if (!joiner.fits(root)) {
                join();   // a batch that would take the kept ones past the joiner's bound starts a new one
            }
            if (joiner.add(root)) {
                join();
            }
        }

        private void join() {
            if (joined == null) {
                joined = client instanceof IpcClient ipc ? PoolAllocator.root(ipc)
                        : ArrowTypes.defaultAllocator().newChildAllocator("vineyard-io join", 0, Long.MAX_VALUE);
            }
            try (VectorSchemaRoot root = joiner.join(joined)) {
                put(root);
            }
        }

        private void put(VectorSchemaRoot root) {
            ObjectId b = client.put(root);
            made.add(b);
            batches.add(b);
            rows += root.getRowCount();
            nbytes += client.getMeta(b).nbytes();
            progress.update(nbytes, rows);
        }

        @Override
        public ObjectId finish(Schema schema) {
            if (joiner.hasPending()) {
                join();
            }
            closeJoined();
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
            return client.putMeta(table, persist, name).id();
        }

        @Override
        public void abort(RuntimeException cause) {
            try {
                joiner.close();
                closeJoined();
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
            }
            deleteAll(client, made, cause);
        }

        /** Closes the allocator joined batches were built in (every buffer is put or released by now). */
        private void closeJoined() {
            if (joined != null) {
                BufferAllocator a = joined;
                joined = null;
                a.close();
            }
        }
    }

    /**
     * The local files Arrow scans: local sources as they are; HDFS files copied to a temporary local
     * directory first (Arrow C++'s own HDFS client needs Hadoop's native libhdfs, which Maven Central does
     * not carry), deleted when the scan ends. Errors that name a staged copy are renamed to the HDFS file.
     */
    private record Staged(List<String> uris, Path dir, Map<String, String> remoteOf) implements AutoCloseable {
        static Staged of(Location loc, IoOptions o, List<String> files) {
            if (!loc.isHdfs()) {
                return new Staged(files, null, Map.of());
            }
            Path dir;
            try {
                dir = Files.createTempDirectory("vineyard-io-hdfs-");
            } catch (java.io.IOException e) {
                throw new IoException(loc.uri(), null, "cannot make a local staging directory: " + e, e);
            }
            Staged staged = new Staged(new ArrayList<>(), dir, new LinkedHashMap<>());
            try (HdfsStorage fs = new HdfsStorage(loc.uri(), o.storage())) {
                for (int i = 0; i < files.size(); i++) {
                    String remote = files.get(i);
                    Path local = dir.resolve(i + "-" + Storage.name(remote));
                    fs.download(HdfsStorage.pathOf(remote), local);
                    staged.uris().add(local.toUri().toString());
                    staged.remoteOf().put(local.toString(), remote);
                    staged.remoteOf().put(local.toUri().toString(), remote);
                }
            } catch (RuntimeException e) {
                staged.close();
                throw e;
            }
            return staged;
        }

        /** {@code e} naming the HDFS file where it names a staged copy. */
        IoException named(IoException e) {
            String remote = remoteOf.get(e.uri());
            if (remote == null) {
                for (Map.Entry<String, String> m : remoteOf.entrySet()) {
                    if (e.uri().endsWith(m.getKey()) || m.getKey().endsWith(e.uri())) {
                        remote = m.getValue();
                    }
                }
            }
            return remote == null ? e : e.at(remote);
        }

        @Override
        public void close() {
            if (dir != null) {
                TableWriter.deleteTree(dir);
            }
        }
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

    private static <R> R scanInto(BufferAllocator allocator, Plan plan, List<String> files, BatchSink<R> sink) {
        Location loc = plan.loc();
        DataFormat format = plan.format();
        IoOptions o = plan.o();
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
            long k = 0;
            while (reader.loadNextBatch()) {
                if (root.getRowCount() > 0 && k++ % plan.sliceTotal() == plan.sliceIndex()) {
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
