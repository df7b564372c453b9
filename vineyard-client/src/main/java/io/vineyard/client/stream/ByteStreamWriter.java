package io.vineyard.client.stream;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Writes a {@link ByteStream}: each write is one chunk (one blob), filled in place in the pool. */
public final class ByteStreamWriter extends StreamWriter {
    ByteStreamWriter(IpcClient client, ObjectId stream) {
        super(client, stream);
    }

    /** Writes {@code bytes} as the next chunk (one copy, into the pool). */
    public void write(byte[] bytes) {
        write(bytes, 0, bytes.length);
    }

    public void write(byte[] bytes, int offset, int length) {
        MemorySegment chunk = nextChunk(length);
        MemorySegment.copy(bytes, offset, chunk, ValueLayout.JAVA_BYTE, 0, length);
    }

    /** Writes the bytes of {@code data} as the next chunk (one copy, into the pool). */
    public void write(MemorySegment data) {
        nextChunk(data.byteSize()).copyFrom(data);
    }
}
