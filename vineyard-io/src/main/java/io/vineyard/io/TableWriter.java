package io.vineyard.io;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.ArrowTypes;
import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import org.apache.arrow.dataset.file.DatasetFileWriter;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes a {@code vineyard::Table} or {@code vineyard::RecordBatch} to a CSV, Parquet or ORC file with Arrow
 * C++'s dataset writer, reading the pool's memory in place (no copy before the encoder). A local target is
 * written into a hidden directory beside it and renamed over it once complete; an S3 target is a prefix
 * that receives {@code part-0.<ext>}, {@code part-1.<ext>}, ...
 */
final class TableWriter {
    private TableWriter() {
    }

    static void write(Client client, ObjectId id, String uri, IoOptions o) {
        Location loc = Location.of(uri, o.storage());
        String named = o.string("format", null);
        DataFormat format = named != null ? DataFormat.named(loc.uri(), named) : DataFormat.ofPath(loc.uri());
        if (format == null) {
            throw new IoException.Unsupported(loc.uri(), "no format: give format= (csv, parquet, orc) or a file extension");
        }
        ObjectMeta meta = client.getMeta(id);
        String typename = meta.typename();
        BufferAllocator allocator = ArrowTypes.defaultAllocator().newChildAllocator("vineyard-io write", 0, Long.MAX_VALUE);
        try (ArrowTable table = got(client, id, typename, loc.uri(), allocator)) {
            char delimiter = o.delimiter(loc.uri().toLowerCase(java.util.Locale.ROOT).endsWith(".tsv") ? '\t' : ',');
            if (format == DataFormat.CSV && delimiter != ',') {
                writeDelimited(table, loc, o, delimiter);
            } else if (loc.isLocal()) {
                writeLocal(allocator, table, format, loc.localPath(), loc.uri());
            } else if (loc.isHdfs()) {
                writeHdfs(allocator, table, format, loc, o);
            } else if (format == DataFormat.ORC) {
                writeS3Orc(table, loc, o);
            } else {
                writeTo(allocator, table, format, loc.arrowUri(), loc.uri());
            }
        } finally {
            closeOnceReleased(allocator);
        }
    }

    /**
     * Closes the write's allocator once Arrow C++ has released the last batches it was handed (its
     * writer threads drop them shortly after the write returns), waiting at most 10 s; an allocator still
     * in use then is left open (it holds nothing of its own, and the buffers go when C++ drops them).
     */
    private static void closeOnceReleased(BufferAllocator allocator) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (allocator.getAllocatedMemory() != 0 && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
        }
        if (allocator.getAllocatedMemory() == 0) {
            allocator.close();
        }
    }

    private static ArrowTable got(Client client, ObjectId id, String typename, String uri, BufferAllocator allocator) {
        if (typename.startsWith("vineyard::Table")) {
            return client.get(id, ArrowTable.class, allocator);
        }
        if (typename.startsWith("vineyard::RecordBatch")) {
            return ArrowTable.of(client.get(id, VectorSchemaRoot.class, allocator));
        }
        throw new IoException.Unsupported(uri, "writing a " + typename + " (" + id + ") as a file: only vineyard::Table and "
                + "vineyard::RecordBatch are tables (serialize writes any object)");
    }

    private static void writeTo(BufferAllocator allocator, ArrowTable table, DataFormat format, String dirUri, String uri) {
        try (ArrowReader reader = table.reader(allocator)) {
            DatasetFileWriter.write(allocator, reader, format.arrow(), dirUri, new String[0], 1, "part-{i}." + format.extension());
        } catch (RuntimeException e) {
            throw ArrowFailures.classify(uri, e);
        } catch (IOException e) {
            throw new IoException(uri, null, e.toString(), e);
        }
    }

    private static void writeLocal(BufferAllocator allocator, ArrowTable table, DataFormat format, Path target, String uri) {
        Path parent = target.getParent();
        Path tmp = parent.resolve("." + target.getFileName() + ".vineyard-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try {
            Files.createDirectories(parent);
            if (format == DataFormat.ORC) {
                // arrow-dataset's JNI writer refuses ORC ("Must provide file_write_options"): ORC's own writer
                OrcFiles.write(table, Files.createDirectories(tmp).resolve("part-0.orc"), uri);
            } else {
                writeTo(allocator, table, format, tmp.toUri().toString(), uri);
            }
            List<Path> written;
            try (Stream<Path> s = Files.list(tmp)) {
                written = s.toList();
            }
            if (written.size() != 1) {
                throw new IoException(uri, null, "Arrow's writer made " + written.size() + " files, expected one", null);
            }
            Files.move(written.getFirst(), target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new IoException(uri, null, e.toString(), e);
        } finally {
            deleteTree(tmp);
        }
    }

    /**
     * An HDFS target: written to a local temporary file by Arrow (which has no HDFS client without
     * Hadoop's native libhdfs), copied to a hidden sibling of the target on HDFS, renamed over it.
     */
    private static void writeHdfs(BufferAllocator allocator, ArrowTable table, DataFormat format, Location loc, IoOptions o) {
        String target = loc.path();
        Path local = null;
        try (Storage fs = loc.storage(o.storage())) {
            if (fs.isDirectory(target)) {
                throw new IoException(loc.uri(), null, "the target is a directory", null);
            }
            local = Files.createTempDirectory("vineyard-io-hdfs-");
            Path file = local.resolve("out." + format.extension());
            writeLocal(allocator, table, format, file, loc.uri());
            String hidden = Storage.hiddenSibling(target);
            try {
                fs.upload(file, hidden);
                fs.rename(hidden, target);
            } catch (RuntimeException e) {
                fs.delete(hidden);
                throw e;
            }
        } catch (IOException e) {
            throw new IoException(loc.uri(), null, "cannot make a local staging directory: " + e, e);
        } finally {
            if (local != null) {
                deleteTree(local);
            }
        }
    }

    /** ORC to an S3 prefix: written to a local temporary file, put as {@code part-0.orc} under it. */
    private static void writeS3Orc(ArrowTable table, Location loc, IoOptions o) {
        Path local = null;
        try (Storage fs = loc.storage(o.storage())) {
            local = Files.createTempDirectory("vineyard-io-orc-");
            Path file = local.resolve("part-0.orc");
            OrcFiles.write(table, file, loc.uri());
            fs.upload(file, Storage.join(loc.path(), "part-0.orc"));
        } catch (IOException e) {
            throw new IoException(loc.uri(), null, "cannot make a local staging directory: " + e, e);
        } finally {
            if (local != null) {
                deleteTree(local);
            }
        }
    }

    /**
     * CSV with another delimiter (Arrow's dataset writer has no option for it), written here row by row
     * from the pool's vectors: a header of the column names, strings quoted as Arrow quotes them (a
     * quote doubled), nulls empty. To a hidden sibling renamed over the target; on S3 (no rename) to
     * {@code part-0.csv} under the prefix, as Arrow's writer names it.
     */
    private static void writeDelimited(ArrowTable table, Location loc, IoOptions o, char delimiter) {
        try (Storage fs = loc.storage(o.storage())) {
            boolean s3 = !loc.isLocal() && !loc.isHdfs();
            String target = s3 ? Storage.join(loc.path(), "part-0.csv") : loc.path();
            String tmp = s3 ? target : Storage.hiddenSibling(target);
            try {
                try (java.io.Writer w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(fs.create(tmp), java.nio.charset.StandardCharsets.UTF_8), 1 << 20)) {
                    List<org.apache.arrow.vector.types.pojo.Field> fields = table.schema().getFields();
                    for (int c = 0; c < fields.size(); c++) {
                        w.write(c == 0 ? "" : String.valueOf(delimiter));
                        w.write(quoted(fields.get(c).getName()));
                    }
                    w.write('\n');
                    for (VectorSchemaRoot batch : table.batches()) {
                        List<org.apache.arrow.vector.FieldVector> columns = batch.getFieldVectors();
                        for (int r = 0; r < batch.getRowCount(); r++) {
                            for (int c = 0; c < columns.size(); c++) {
                                if (c > 0) {
                                    w.write(delimiter);
                                }
                                Object v = columns.get(c).getObject(r);
                                if (v != null) {
                                    w.write(v instanceof org.apache.arrow.vector.util.Text || v instanceof String ? quoted(v.toString()) : v.toString());
                                }
                            }
                            w.write('\n');
                        }
                    }
                }
                if (!s3) {
                    fs.rename(tmp, target);
                }
            } catch (IOException | RuntimeException e) {
                fs.delete(tmp);
                throw e instanceof IOException io ? fs.failure(target, io) : (RuntimeException) e;
            }
        }
    }

    private static String quoted(String s) {
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a leftover hidden temporary directory is harmless
        }
    }
}
