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
        if (format == DataFormat.ORC) {
            throw new IoException.Unsupported(loc.uri(), "writing ORC (arrow-dataset 18.3's JNI writer refuses ORC: "
                    + "'Must provide file_write_options'); ORC files are read, write Parquet instead");
        }
        if (format == DataFormat.CSV && o.delimiter(',') != ',') {
            throw new IoException.Unsupported(loc.uri(), "writing CSV with a delimiter other than ',' (Arrow's dataset writer has no option for it)");
        }
        ObjectMeta meta = client.getMeta(id);
        String typename = meta.typename();
        BufferAllocator allocator = ArrowTypes.defaultAllocator().newChildAllocator("vineyard-io write", 0, Long.MAX_VALUE);
        try (ArrowTable table = got(client, id, typename, loc.uri(), allocator)) {
            if (loc.isLocal()) {
                writeLocal(allocator, table, format, loc.localPath(), loc.uri());
            } else if (loc.isHdfs()) {
                writeHdfs(allocator, table, format, loc, o);
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
            writeTo(allocator, table, format, tmp.toUri().toString(), uri);
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
