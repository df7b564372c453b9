package io.vineyard.client.stream;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;

/**
 * Writes a stream whose chunks are objects: each value is put through the client (any type its
 * registry builds) and pushed as the next chunk.
 */
public class ObjectStreamWriter extends StreamWriter {
    private final IpcClient client;

    protected ObjectStreamWriter(IpcClient client, ObjectId stream) {
        super(client, stream);
        this.client = client;
    }

    public static ObjectStreamWriter open(IpcClient client, ObjectId stream) {
        return new ObjectStreamWriter(client, stream);
    }

    /** Puts {@code value} and pushes it as the next chunk; returns the chunk's id. */
    public ObjectId write(Object value) {
        ObjectId chunk = client.put(value);
        try {
            push(chunk);
        } catch (RuntimeException e) {
            client.delete(chunk);
            throw e;
        }
        return chunk;
    }
}
