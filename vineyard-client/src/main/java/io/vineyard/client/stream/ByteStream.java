package io.vineyard.client.stream;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;

import java.util.Map;

/**
 * vineyard's {@code vineyard::ByteStream}: a stream whose chunks are blobs of bytes (a file read in
 * pieces, CSV text, any byte pipeline). The writer fills daemon-allocated chunks in place; the reader
 * sees each chunk as a read-only view of the pool, as an {@link java.io.InputStream}, or as lines.
 *
 * <pre>{@code
 * ObjectId id = ByteStream.create(client, Map.of("kind", "csv"));
 * try (ByteStreamWriter w = ByteStream.openWriter(client, id)) {
 *     w.write("a,b\n1,2\n".getBytes(StandardCharsets.UTF_8));
 *     w.finish();
 * }
 * List<String> lines;
 * try (ByteStreamReader r = ByteStream.openReader(client, id)) {
 *     lines = r.lines().toList();                         // [a,b, 1,2]
 * }
 * }</pre>
 */
public final class ByteStream {
    private ByteStream() {
    }

    /** Creates a ByteStream with {@code params} (vineyard's {@code params_}). */
    public static ObjectId create(IpcClient client, Map<String, String> params) {
        return Streams.create(client, Streams.BYTE_STREAM, params);
    }

    public static ByteStreamWriter openWriter(IpcClient client, ObjectId stream) {
        return new ByteStreamWriter(client, stream);
    }

    public static ByteStreamReader openReader(IpcClient client, ObjectId stream) {
        return new ByteStreamReader(client, stream);
    }
}
