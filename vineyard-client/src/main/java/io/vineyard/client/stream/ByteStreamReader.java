package io.vineyard.client.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

/**
 * Reads a {@link ByteStream}. {@link #next()} gives each chunk as a read-only view of the pool (no
 * copy), valid until the following call; {@link #inputStream()} and {@link #lines()} read the chunks
 * as one byte sequence (a line may span chunks).
 */
public final class ByteStreamReader extends StreamReader implements Iterable<MemorySegment> {
    ByteStreamReader(IpcClient client, ObjectId stream) {
        super(client, stream);
    }

    /**
     * The next chunk's bytes (read-only, in the pool), valid until the next call or {@link #close()};
     * null at the end of the stream.
     */
    public MemorySegment next() {
        ObjectId chunk = nextChunk();
        if (chunk == null) {
            return null;
        }
        ObjectNode get = Json.object();
        get.put("type", "get_buffers_request");
        get.putArray("ids").add(Json.u64(chunk.value()));
        get.put("unsafe", false);
        JsonNode payloads = conn.request(get).get("payloads");
        if (payloads == null || payloads.size() != 1) {
            throw new VineyardException.ObjectNotExists("stream " + stream() + ": chunk " + chunk + " is not a blob");
        }
        return conn.blobSegment(payloads.get(0)).asReadOnly();
    }

    /**
     * The chunks, as {@link #next()} gives them; {@code hasNext()} waits for the writer (and pulls the
     * chunk, so the view returned before it is no longer valid).
     */
    @Override
    public java.util.Iterator<MemorySegment> iterator() {
        return new Chunks<>(this::next);
    }

    /** The stream's bytes, chunk after chunk, as an input stream (read on this thread). */
    public InputStream inputStream() {
        return new InputStream() {
            private MemorySegment current = MemorySegment.NULL;
            private long pos;
            private boolean end;

            private boolean fill() {
                while (!end && pos >= current.byteSize()) {
                    MemorySegment next = next();
                    if (next == null) {
                        end = true;
                    } else {
                        current = next;
                        pos = 0;
                    }
                }
                return !end;
            }

            @Override
            public int read() {
                return fill() ? current.get(ValueLayout.JAVA_BYTE, pos++) & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (len == 0) {
                    return 0;
                }
                if (!fill()) {
                    return -1;
                }
                int n = (int) Math.min(len, current.byteSize() - pos);
                MemorySegment.copy(current, ValueLayout.JAVA_BYTE, pos, b, off, n);
                pos += n;
                return n;
            }
        };
    }

    /** The stream's text as lines (UTF-8), lines spanning chunks joined. */
    public Stream<String> lines() {
        return lines(StandardCharsets.UTF_8);
    }

    public Stream<String> lines(Charset charset) {
        BufferedReader in = new BufferedReader(new InputStreamReader(inputStream(), charset), 1 << 16);
        return in.lines().onClose(() -> {
            try {
                in.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
