package io.vineyard.io;

import io.vineyard.arrow.RecordBatchStream;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.stream.ByteStream;
import io.vineyard.client.stream.ByteStreamWriter;
import io.vineyard.client.stream.ObjectStreamWriter;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Files fed into streams as they are read, so that a consumer starts on the first chunk while the rest
 * of the file is still being read: vineyard's {@code read_bytes} (a file into a {@code ByteStream}, read
 * straight into each chunk in the pool) and CSV/Parquet/ORC parsed into a {@code RecordBatchStream}
 * (one chunk per decoded batch). A failure aborts the stream: its reader gets {@code StreamFailed}.
 */
final class StreamFeeds {
    static final long DEFAULT_CHUNK_BYTES = 4L << 20;

    private StreamFeeds() {
    }

    static void readBytes(IpcClient client, String uri, ObjectId stream, IoOptions o, VineyardIO.Progress progress) {
        Location loc = Location.of(uri, o.storage());
        long chunk = o.number("chunk_bytes", DEFAULT_CHUNK_BYTES);
        try (Storage storage = loc.storage(o.storage())) {
            String path = loc.path();
            if (!storage.isFile(path)) {
                throw new IoException.NotFound(loc.uri(), "no such file", null);
            }
            long size = storage.size(path);
            try (ByteStreamWriter w = ByteStream.openWriter(client, stream);
                 ReadableByteChannel ch = storage.channel(path)) {
                long done = 0;
                try {
                    while (done < size) {
                        long n = Math.min(chunk, size - done);
                        MemorySegment target = w.nextChunk(n);
                        ByteBuffer buf = target.asByteBuffer();
                        while (buf.hasRemaining()) {
                            if (ch.read(buf) < 0) {
                                throw new IoException(loc.uri(), "byte " + (done + buf.position()), "the file shrank while it was read", null);
                            }
                        }
                        done += n;
                        progress.update(done, 0);
                    }
                    w.finish();
                } catch (RuntimeException | IOException e) {
                    w.abort();
                    throw e;
                }
            } catch (IOException e) {
                throw storage.failure(path, e);
            }
        }
    }

    static void readBatches(IpcClient client, String uri, ObjectId stream, IoOptions o, VineyardIO.Progress progress) {
        try (ObjectStreamWriter w = RecordBatchStream.openWriter(client, stream)) {
            TableReader.scan(uri, o, new TableReader.BatchSink<Void>() {
                private long rows;
                private long bytes;

                @Override
                public void batch(VectorSchemaRoot root) {
                    w.write(root);
                    rows += root.getRowCount();
                    bytes += root.getFieldVectors().stream().mapToLong(v -> v.getBufferSize()).sum();
                    progress.update(bytes, rows);
                }

                @Override
                public Void finish(Schema schema) {
                    w.finish();
                    return null;
                }

                @Override
                public void abort(RuntimeException cause) {
                    try {
                        w.abort();
                    } catch (RuntimeException e) {
                        cause.addSuppressed(e);
                    }
                }
            });
        }
    }
}
