package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NameHandlersTest {
    private final InProcessDaemon daemon = new InProcessDaemon();

    @AfterEach
    void checkInvariants() {
        daemon.close();
    }

    private void awaitDeferred(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (daemon.ctx.locked(daemon.ctx::deferredRequests) != n) {
            assertTrue(System.nanoTime() < deadline, "expected " + n + " parked requests");
            Thread.sleep(1);
        }
    }

    /** Runs a request on its own thread (the common pool may have a single worker here). */
    private static <T> CompletableFuture<T> async(java.util.function.Supplier<T> call) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon(true).start(() -> {
            try {
                f.complete(call.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    @Test
    void aWaitingGetNameAnswersWhenItsNameIsBoundAndEndsSilentlyWhenItsPeerLeaves() throws Exception {
        TestPeer waiterA = daemon.connect(false);
        TestPeer waiterB = daemon.connect(false);
        TestPeer writer = daemon.connect(false);
        CompletableFuture<ObjectNode> a = async(() ->
                daemon.call(waiterA, "{\"type\":\"get_name_request\",\"name\":\"a\",\"wait\":true}"));
        CompletableFuture<ObjectNode> b = async(() ->
                daemon.call(waiterB, "{\"type\":\"get_name_request\",\"name\":\"b\",\"wait\":true}"));
        awaitDeferred(2);

        ObjectNode obj = daemon.call(writer, "{\"type\":\"create_data_request\",\"content\":{\"typename\":\"x\",\"transient\":false}}");
        daemon.call(writer, "{\"type\":\"put_name_request\",\"object_id\":" + obj.get("id") + ",\"name\":\"a\"}");
        assertEquals(obj.get("id").asLong(), a.get(10, TimeUnit.SECONDS).get("object_id").asLong());
        awaitDeferred(1);
        assertTrue(!b.isDone(), "a bound name answers only its own waiters");

        waiterB.gone = true;
        assertNull(b.get(10, TimeUnit.SECONDS), "a waiter whose peer left sends nothing");
        awaitDeferred(0);
        daemon.call(writer, "{\"type\":\"del_data_request\",\"id\":[" + obj.get("id") + "]}");
    }

    @Test
    void shutdownEndsEveryWait() throws Exception {
        TestPeer waiter = daemon.connect(false);
        CompletableFuture<ObjectNode> w = async(() ->
                daemon.call(waiter, "{\"type\":\"get_data_request\",\"id\":[1234],\"wait\":true}"));
        awaitDeferred(1);
        daemon.ctx.beginShutdown();
        assertNull(w.get(10, TimeUnit.SECONDS));
        awaitDeferred(0);
    }
}
