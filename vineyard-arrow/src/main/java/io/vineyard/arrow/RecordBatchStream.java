package io.vineyard.arrow;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.stream.ObjectStreamWriter;
import io.vineyard.client.stream.Streams;
import org.apache.arrow.memory.BufferAllocator;

import java.util.Map;

/**
 * vineyard's {@code vineyard::RecordBatchStream}: a stream whose chunks are {@code vineyard::RecordBatch}
 * objects. A producer writes {@code VectorSchemaRoot}s as they are ready; a consumer reads them as an
 * Arrow {@link org.apache.arrow.vector.ipc.ArrowReader} (zero-copy views of the pool) while the
 * producer goes on.
 *
 * <pre>{@code
 * ObjectId id = RecordBatchStream.create(client, Map.of());
 * try (ObjectStreamWriter w = RecordBatchStream.openWriter(client, id)) {
 *     w.write(batch);                 // any number of VectorSchemaRoots with one schema
 *     w.finish();
 * }
 * long rows = 0;
 * try (RecordBatchStreamReader r = RecordBatchStream.openReader(client, id, allocator)) {
 *     while (r.loadNextBatch()) {
 *         VectorSchemaRoot root = r.getVectorSchemaRoot();   // the same root, reloaded per batch
 *         rows += root.getRowCount();
 *     }
 * }
 * }</pre>
 */
public final class RecordBatchStream {
    private RecordBatchStream() {
    }

    public static ObjectId create(IpcClient client, Map<String, String> params) {
        return Streams.create(client, Streams.RECORD_BATCH_STREAM, params);
    }

    /** A writer: {@code write(root)} puts each batch as a {@code vineyard::RecordBatch} and queues it. */
    public static ObjectStreamWriter openWriter(IpcClient client, ObjectId stream) {
        return ObjectStreamWriter.open(client, stream);
    }

    /** A reader, as an ArrowReader whose buffers come from {@code allocator}'s root. */
    public static RecordBatchStreamReader openReader(IpcClient client, ObjectId stream, BufferAllocator allocator) {
        return new RecordBatchStreamReader(client, stream, allocator);
    }
}
