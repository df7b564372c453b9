package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamHandlersTest {
    private InProcessDaemon daemon = new InProcessDaemon();

    @AfterEach
    void checkInvariants() {
        daemon.close();
    }

    private long newStream(TestPeer p) {
        ObjectNode made = daemon.call(p, "{\"type\":\"create_data_request\",\"content\":{\"typename\":\"vineyard::ByteStream\","
                + "\"params_\":\"{}\",\"nbytes\":0,\"transient\":true,\"instance_id\":0}}");
        long id = made.get("id").asLong();
        daemon.call(p, "{\"type\":\"create_stream_request\",\"object_id\":" + Json.u64(id) + "}");
        return id;
    }

    private void open(TestPeer p, long id, int mode) {
        daemon.call(p, "{\"type\":\"open_stream_request\",\"object_id\":" + Json.u64(id) + ",\"mode\":" + mode + "}");
    }

    private ObjectNode next(TestPeer p, long id, long size) {
        return daemon.call(p, "{\"type\":\"get_next_stream_chunk_request\",\"id\":" + Json.u64(id) + ",\"size\":" + size + "}");
    }

    private long pull(TestPeer p, long id) {
        return daemon.call(p, "{\"type\":\"pull_next_stream_chunk_request\",\"id\":" + Json.u64(id) + "}").get("chunk").asLong();
    }

    private void stop(TestPeer p, long id, boolean failed) {
        daemon.call(p, "{\"type\":\"stop_stream_request\",\"id\":" + Json.u64(id) + ",\"failed\":" + failed + "}");
    }

    private Status pullStatus(TestPeer p, long id) {
        return assertThrows(VineyardException.class, () -> pull(p, id)).status();
    }

    private long size(long blob) {
        return daemon.ctx.locked(() -> daemon.blobs().find(blob).size());
    }

    private long streamBytes() {
        return daemon.ctx.locked(() -> daemon.ctx.streams().usage().bytes());
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.onSpinWait();
        }
    }

    @Test
    void chunksArriveInOrderWithTheirSizesThenTheStreamIsDrained() {
        TestPeer w = daemon.connect(false);
        TestPeer r = daemon.connect(false);
        long id = newStream(w);
        open(w, id, 2);
        open(r, id, 1);
        List<Long> written = new ArrayList<>();
        for (int k = 1; k <= 11; k++) {
            ObjectNode chunk = next(w, id, 1L << k);
            assertEquals(1L << k, chunk.path("buffer").path("data_size").asLong());
            assertEquals(k == 1 ? daemon.blobs().storeFd() : -1, chunk.get("fd").asInt(), "the pool fd goes once");
            written.add(chunk.path("buffer").path("object_id").asLong());
        }
        stop(w, id, false);
        for (int k = 1; k <= 11; k++) {
            long chunk = pull(r, id);
            assertEquals(written.get(k - 1), chunk);
            assertEquals(1L << k, size(chunk));
            ObjectNode got = daemon.call(r, "{\"type\":\"get_buffers_request\",\"ids\":[" + Json.u64(chunk) + "]}");
            assertEquals(1, got.get("num").asInt(), "a queued chunk is sealed and readable");
        }
        assertEquals(Status.STREAM_DRAINED, pullStatus(r, id));
        assertEquals(0, streamBytes(), "the last pull deleted the chunk read before");
        assertEquals(0, daemon.ctx.locked(() -> daemon.blobs().usageBytes()));
    }

    @Test
    void openingAModeTwiceAnUnknownStreamOrCreatingTwiceAreRefusedWithVineyardsCodes() {
        TestPeer a = daemon.connect(false);
        TestPeer b = daemon.connect(false);
        long id = newStream(a);
        open(a, id, 1);
        open(a, id, 2);
        VineyardException twice = assertThrows(VineyardException.class, () -> open(b, id, 2));
        assertEquals(Status.STREAM_OPENED, twice.status());
        assertEquals("Stream already opened", twice.getMessage());
        assertEquals(Status.OBJECT_NOT_EXISTS, assertThrows(VineyardException.class, () -> open(a, id + 2, 1)).status());
        assertEquals(Status.OBJECT_EXISTS, assertThrows(VineyardException.class,
                () -> daemon.call(a, "{\"type\":\"create_stream_request\",\"object_id\":" + Json.u64(id) + "}")).status());
        daemon.call(a, "{\"type\":\"drop_stream_request\",\"id\":" + Json.u64(id) + "}");
    }

    @Test
    void aPullWaitsForThePushAndAnAbortEndsTheStreamAsFailed() throws Exception {
        TestPeer w = daemon.connect(false);
        TestPeer r = daemon.connect(false);
        long id = newStream(w);
        open(w, id, 2);
        open(r, id, 1);
        CompletableFuture<Long> pulled = new CompletableFuture<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                pulled.complete(pull(r, id));
            } catch (Throwable t) {
                pulled.completeExceptionally(t);
            }
        });
        await(() -> daemon.ctx.deferredRequests() == 1, "the pull waits");
        assertFalse(pulled.isDone());
        ObjectNode blob = daemon.call(w, "{\"type\":\"create_buffer_request\",\"size\":100}");
        long chunk = blob.get("id").asLong();
        daemon.call(w, "{\"type\":\"seal_request\",\"object_id\":" + Json.u64(chunk) + "}");
        daemon.call(w, "{\"type\":\"push_next_stream_chunk_request\",\"id\":" + Json.u64(id) + ",\"chunk\":" + Json.u64(chunk) + "}");
        assertEquals(chunk, pulled.get(10, TimeUnit.SECONDS));
        reader.join();
        next(w, id, 64); // being written when the writer aborts: never read
        stop(w, id, true);
        assertEquals(Status.STREAM_FAILED, pullStatus(r, id));
        assertEquals(Status.INVALID_STREAM_STATE, assertThrows(VineyardException.class, () -> stop(w, id, false)).status());
        daemon.call(w, "{\"type\":\"release_request\",\"object_id\":" + Json.u64(chunk) + "}");
        assertEquals(0, streamBytes());
    }

    @Test
    void aWriterThatGoesAwayFailsTheStreamAfterWhatItQueued() throws Exception {
        TestPeer w = daemon.connect(false);
        TestPeer r = daemon.connect(false);
        long id = newStream(w);
        open(w, id, 2);
        open(r, id, 1);
        for (int k = 0; k < 4; k++) {
            next(w, id, 1024); // the fourth is being written when the writer dies
        }
        long before = daemon.ctx.locked(() -> daemon.blobs().usageBytes());
        assertEquals(4 * 1024, before);
        CompletableFuture<List<Object>> seen = new CompletableFuture<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            List<Object> out = new ArrayList<>();
            try {
                while (true) {
                    out.add(pull(r, id));
                }
            } catch (VineyardException e) {
                out.add(e.status());
            }
            seen.complete(out);
        });
        await(() -> daemon.ctx.deferredRequests() == 1, "the reader waits for a fourth chunk");
        w.gone = true;
        w.holdings().close();
        List<Object> got = seen.get(10, TimeUnit.SECONDS);
        reader.join();
        assertEquals(4, got.size(), "three chunks, then the end: " + got);
        assertEquals(Status.STREAM_FAILED, got.get(3));
        assertEquals(0, streamBytes());
        assertEquals(0, daemon.ctx.locked(() -> daemon.blobs().usageBytes()), "the unfinished chunk went with its writer");
    }

    @Test
    void aReaderThatGoesAwayDropsTheStreamAndAWaitingWriterGetsAnError() throws Exception {
        daemon.close();
        daemon = new InProcessDaemon("--stream_threshold=1"); // 1% of 64 MiB: 671,088 bytes
        TestPeer w = daemon.connect(false);
        TestPeer r = daemon.connect(false);
        long id = newStream(w);
        open(w, id, 2);
        open(r, id, 1);
        next(w, id, 300_000);
        next(w, id, 300_000);
        CompletableFuture<ObjectNode> third = new CompletableFuture<>();
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                third.complete(next(w, id, 300_000));
            } catch (Throwable t) {
                third.completeExceptionally(t);
            }
        });
        await(() -> daemon.ctx.deferredRequests() == 1, "the writer waits for stream memory");
        assertEquals(600_000, streamBytes());
        pull(r, id);
        r.gone = true;
        r.holdings().close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> third.get(10, TimeUnit.SECONDS));
        assertEquals(Status.INVALID_STREAM_STATE, assertInstanceOf(VineyardException.class, e.getCause()).status());
        writer.join();
        assertEquals(Status.INVALID_STREAM_STATE, assertThrows(VineyardException.class, () -> next(w, id, 10)).status(),
                "the writer's next request is refused too, and its unfinished chunk goes");
        assertEquals(0, streamBytes());
        assertEquals(0, daemon.ctx.locked(() -> daemon.blobs().usageBytes()));
    }

    @Test
    void streamMemoryNeverPassesTheThresholdAndAWriterMayAskForABoundedWait() throws Exception {
        daemon.close();
        daemon = new InProcessDaemon("--stream_threshold=2"); // 1,342,177 bytes
        TestPeer w = daemon.connect(false);
        TestPeer r = daemon.connect(false);
        long id = newStream(w);
        open(w, id, 2);
        open(r, id, 1);
        int chunks = 40;
        CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
            for (int k = 0; k < chunks; k++) {
                next(w, id, 256 * 1024);
            }
            stop(w, id, false);
        }, runnable -> Thread.ofPlatform().start(runnable));
        // the reader starts once the writer has run into the threshold (its next chunk waits, deferred):
        // otherwise a reader that keeps up never lets the stream's memory near it
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (daemon.ctx.locked(() -> daemon.ctx.deferredRequests()) == 0) {
            assertTrue(System.nanoTime() < deadline, "the writer never waited at the threshold: " + streamBytes() + " bytes");
            Thread.sleep(1);
        }
        int read = 0;
        while (true) {
            try {
                pull(r, id);
                read++;
            } catch (VineyardException e) {
                assertEquals(Status.STREAM_DRAINED, e.status());
                break;
            }
        }
        written.get(10, TimeUnit.SECONDS);
        assertEquals(chunks, read);
        var usage = daemon.ctx.locked(() -> daemon.ctx.streams().usage());
        assertTrue(usage.peakBytes() <= usage.thresholdBytes(), "peak " + usage.peakBytes() + " of " + usage.thresholdBytes());
        assertTrue(usage.peakBytes() >= 4 * 256 * 1024, "the writer ran ahead of the reader: peak " + usage.peakBytes());

        long id2 = newStream(w);
        open(w, id2, 2);
        for (int k = 0; k < 5; k++) {
            next(w, id2, 256 * 1024);
        }
        VineyardException full = assertThrows(VineyardException.class, () -> daemon.call(w,
                "{\"type\":\"get_next_stream_chunk_request\",\"id\":" + Json.u64(id2) + ",\"size\":262144,\"timeout_ms\":50}"));
        assertEquals(Status.NOT_ENOUGH_MEMORY, full.status());
        assertEquals(0, daemon.ctx.deferredRequests(), "the timed-out wait is gone");
        VineyardException never = assertThrows(VineyardException.class, () -> next(w, id2, 2_000_000));
        assertEquals(Status.NOT_ENOUGH_MEMORY, never.status(), "a chunk above the threshold can never fit");
        daemon.call(w, "{\"type\":\"drop_stream_request\",\"id\":" + Json.u64(id2) + "}");
        w.holdings().close();
        assertEquals(0, streamBytes());
    }
}
