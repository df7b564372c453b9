package io.vineyard.io;

import io.vineyard.client.Client;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.client.types.GlobalDataFrame;

import java.util.List;
import java.util.Map;

/**
 * Data in and out of vineyard, the four operations of vineyard's {@code vineyard.io}:
 *
 * <pre>{@code
 * ObjectId table = VineyardIO.read(client, dir + "/trips.csv", Map.of("delimiter", "|", "header_row", true));
 * VineyardIO.write(client, table, dir + "/trips.parquet", Map.of());
 * VineyardIO.serialize(client, table, dir + "/backup", Map.of());    // any object tree, blobs and metadata
 * ObjectId again = VineyardIO.deserialize(client, dir + "/backup", Map.of());
 * }</pre>
 *
 * Reads make a {@code vineyard::Table} (one {@code vineyard::RecordBatch} per decoded batch) that
 * vineyard-arrow reads as an {@code ArrowTable} and the Python client as a {@code pyarrow.Table}, or with
 * {@code chunks} a {@code vineyard::GlobalDataFrame} of such tables. URIs are local paths, {@code file://},
 * {@code s3://} or {@code hdfs://} URIs, directories and globs (read as one table); options
 * are vineyard's ({@link IoOptions}: {@code delimiter}, {@code header_row}, {@code schema},
 * {@code column_types}, {@code include_all_columns}, {@code storage_options}, ...), also accepted in the
 * URI's fragment as vineyard's C++ adaptors take them. Every failure is an {@link IoException} naming the
 * file and, where there is one, the position, and leaves nothing behind in the daemon or the target.
 */
public final class VineyardIO {
    private VineyardIO() {
    }

    /** Progress of a long transfer, called after each batch or blob with the totals so far (on the calling thread). */
    @FunctionalInterface
    public interface Progress {
        /** No reports. */
        Progress NONE = (bytes, rows) -> { };

        /**
         * @param bytes bytes put into (read) or taken from (serialize) the pool so far
         * @param rows  rows so far (0 for serialize and deserialize)
         */
        void update(long bytes, long rows);
    }

    /**
     * Reads a CSV, Parquet or ORC file (format from {@code format=} or the extension), a directory or a
     * glob of them into a new {@code vineyard::Table}.
     *
     * @return the table's id (persisted and named when {@code name} is given)
     * @throws IoException.NotFound  when there is no such file
     * @throws IoException.Malformed when the file is not what its format says (the position in the message)
     */
    public static ObjectId read(Client client, String uri, Map<String, ?> options) {
        return read(client, uri, options, Progress.NONE);
    }

    /**
     * {@link #read(Client, String, Map)} reporting each batch put to {@code progress}. With {@code chunks}
     * ({@code file}, {@code batch}/{@code row_group}) or {@code global=true} the result is a
     * {@code vineyard::GlobalDataFrame} over the persisted chunks of {@link #readChunks}.
     */
    public static ObjectId read(Client client, String uri, Map<String, ?> options, Progress progress) {
        IoOptions o = IoOptions.of(uri, options);
        if (o.string("chunks", null) == null && !o.bool("global", false)) {
            return TableReader.read(client, uri, o, progress);
        }
        List<ObjectId> chunks = TableReader.readChunks(client, uri, o, progress);
        try {
            ObjectId global = client.put(new GlobalDataFrame(chunks.size(), 1, chunks), PutOptions.persistent());
            String name = o.string("name", null);
            if (name != null) {
                client.putName(global, name);
            }
            return global;
        } catch (RuntimeException e) {
            TableReader.deleteAll(client, chunks, e);
            throw e;
        }
    }

    /**
     * A partitioned read: the files of a directory or glob (this reader's share of them with
     * {@code proc_num}/{@code proc_index}; of one file, every {@code proc_num}-th batch) scanned in
     * parallel into persisted {@code vineyard::Table} chunks, one per file ({@code chunks=file}, the
     * default) or per batch, a Parquet row group or ORC stripe ({@code chunks=batch}). Readers on
     * several daemons each call this, and one of them puts a {@code GlobalDataFrame} over all the chunks.
     * All or nothing: a failure deletes every chunk made.
     *
     * @return the chunks' ids in file order (empty when there are more readers than files)
     */
    public static List<ObjectId> readChunks(Client client, String uri, Map<String, ?> options, Progress progress) {
        return TableReader.readChunks(client, uri, IoOptions.of(uri, options), progress);
    }

    /**
     * vineyard's {@code read_bytes}: writes a local, HDFS or S3 file's bytes into the {@code ByteStream} {@code stream}
     * (made with {@code ByteStream.create}), read straight into each chunk of {@code chunk_bytes} (default
     * 4 MiB), then finishes it. Blocks until the file is read, so run it where the producer runs; the
     * stream's reader gets each chunk as soon as the next is asked for. A failure aborts the stream.
     */
    public static void readBytes(IpcClient client, String uri, ObjectId stream, Map<String, ?> options) {
        StreamFeeds.readBytes(client, uri, stream, IoOptions.of(uri, options), Progress.NONE);
    }

    /**
     * Parses a CSV, Parquet or ORC file (as {@link #read}) into the {@code RecordBatchStream} {@code stream}
     * (made with {@code RecordBatchStream.create}), one chunk per decoded batch, then finishes it: the
     * consumer reads the first batches while the rest of the file is parsed. A failure aborts the stream.
     */
    public static void readBatches(IpcClient client, String uri, ObjectId stream, Map<String, ?> options, Progress progress) {
        StreamFeeds.readBatches(client, uri, stream, IoOptions.of(uri, options), progress);
    }

    /**
     * vineyard's {@code parse_bytes}: CSV text read from the {@code ByteStream} {@code bytes} as its chunks
     * arrive, parsed into the {@code RecordBatchStream} {@code batches} ({@code batch_rows} rows a batch,
     * default 1Mi), which it then finishes; with {@code delimiter}, {@code header_row}, {@code column_types}
     * (int64, double, bool, string; others inferred from the first batch) and {@code null_values}. Start it
     * before (or while) the bytes are written: it parses each chunk as it comes, and the batches' consumer
     * gets the first one before the bytes end. A failure (a row with the wrong field count, a value that
     * does not fit its column's type, a failed byte stream) aborts {@code batches}.
     */
    public static void parseBytes(IpcClient client, ObjectId bytes, ObjectId batches, Map<String, ?> options, Progress progress) {
        CsvBytes.parse(client, bytes, batches, IoOptions.of("stream " + bytes, options), progress);
    }

    /**
     * Writes a {@code vineyard::Table} or {@code vineyard::RecordBatch} (by id) to a file; the format is
     * {@code format=} or the extension. The file is written beside the target and renamed over it, so a
     * failed write leaves the target as it was.
     */
    public static void write(Client client, ObjectId id, String uri, Map<String, ?> options) {
        TableWriter.write(client, id, uri, IoOptions.of(uri, options));
    }

    /** {@link #write(Client, ObjectId, String, Map)} of the object named {@code name}. */
    public static void write(Client client, String name, String uri, Map<String, ?> options) {
        write(client, client.getName(name), uri, options);
    }

    /**
     * Writes any object tree to the directory {@code uri} in vineyard's layout: {@code metadata.json} per
     * object, a {@code blob} file (zstd-compressed unless {@code compression=none}) and its
     * {@code blob.meta.json} per blob, one directory per member. Global objects and their members too.
     */
    public static void serialize(Client client, ObjectId id, String uri, Map<String, ?> options) {
        serialize(client, id, uri, options, Progress.NONE);
    }

    /** {@link #serialize(Client, ObjectId, String, Map)} reporting each blob written to {@code progress}. */
    public static void serialize(Client client, ObjectId id, String uri, Map<String, ?> options, Progress progress) {
        ObjectDirectory.serialize(client, id, uri, IoOptions.of(uri, options), progress);
    }

    /** {@link #serialize(Client, ObjectId, String, Map)} of the object named {@code name}. */
    public static void serialize(Client client, String name, String uri, Map<String, ?> options) {
        serialize(client, client.getName(name), uri, options);
    }

    /**
     * Recreates an object tree {@link #serialize serialized} to {@code uri} (by us or vineyard's
     * serializer): new ids, the same metadata otherwise, byte-identical blobs. All or nothing.
     *
     * @return the new root object's id (persistent, as vineyard's deserializer leaves it)
     */
    public static ObjectId deserialize(Client client, String uri, Map<String, ?> options) {
        return deserialize(client, uri, options, Progress.NONE);
    }

    /** {@link #deserialize(Client, String, Map)} reporting each blob filled to {@code progress}. */
    public static ObjectId deserialize(Client client, String uri, Map<String, ?> options, Progress progress) {
        return ObjectDirectory.deserialize(client, uri, IoOptions.of(uri, options), progress);
    }
}
