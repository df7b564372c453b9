package io.vineyard.common.wire;

import io.vineyard.common.posix.Posix;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

class FrameSocketTest {
    /** A connection's write buffer must not grow to its largest reply and stay that size. */
    @Test
    void aLargeFrameArrivesWholeAndTheSocketKeepsNoLargerBuffer() throws Exception {
        int[] pair = Posix.socketpair();
        assertNotNull(pair);
        try (FrameSocket writer = new FrameSocket(pair[0], false); FrameSocket reader = new FrameSocket(pair[1], true)) {
            long retained = writer.retainedBufferBytes();
            byte[] body = new byte[8 << 20];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) (i * 31);
            }
            CompletableFuture<byte[]> got = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> got.complete(reader.readFrame()));
            writer.writeFrame(body);
            assertArrayEquals(body, got.get(30, TimeUnit.SECONDS));
            assertEquals(retained, writer.retainedBufferBytes(), "the 8 MiB frame went through a scratch buffer");

            byte[] small = Arrays.copyOf(body, 100);
            CompletableFuture<byte[]> next = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> next.complete(reader.readFrame()));
            writer.writeFrame(small);
            assertArrayEquals(small, next.get(30, TimeUnit.SECONDS), "small frames still use the kept buffer");
        }
    }
}
