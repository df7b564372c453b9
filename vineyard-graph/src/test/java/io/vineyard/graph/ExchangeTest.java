package io.vineyard.graph;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Exchange#inProcess}: every worker gets what each sent it, round after round; an abort fails the waiting workers. */
class ExchangeTest {
    @Test
    void everyWorkerReceivesWhatEachSentItRoundAfterRound() throws Exception {
        int n = 3;
        List<Exchange> ex = Exchange.inProcess(n);
        List<Integer> ranks = ex.stream().map(Exchange::self).toList();
        assertEquals(List.of(0, 1, 2), ranks);
        List<Long> sums = DistributedGraphTest.onWorkers(n, w -> {
            Exchange e = ex.get(w);
            long total = 0;
            for (int round = 0; round < 20; round++) {
                long[][] out = new long[n][];
                double[][] outD = new double[n][];
                for (int to = 0; to < n; to++) {
                    out[to] = new long[] {round, w, to};
                    outD[to] = new double[] {round + w / 10.0};
                }
                long[][] in = e.allToAll(out);
                double[][] inD = e.allToAll(outD);
                for (int from = 0; from < n; from++) {
                    assertArrayEquals(new long[] {round, from, w}, in[from], "round " + round + " from " + from + " to " + w);
                    assertEquals(round + from / 10.0, inD[from][0]);
                }
                total += e.sum((long) w + round);
            }
            return total;
        });
        long expected = 0;
        for (int round = 0; round < 20; round++) {
            expected += 3L * round + 3;
        }
        assertEquals(List.of(expected, expected, expected), sums, "the same sum on every worker");
    }

    @Test
    void anAbortFailsTheWorkersWaitingInAnExchange() throws Exception {
        List<Exchange> ex = Exchange.inProcess(2);
        CompletableFuture<long[][]> waiting = CompletableFuture.supplyAsync(() -> ex.get(1).allToAll(new long[][] {{1}, {2}}),
                r -> Thread.ofPlatform().start(r));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (((InProcessExchange) ex.get(0)).waitingWorkers() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // until worker 1 waits at the barrier
        }
        assertEquals(1, ((InProcessExchange) ex.get(0)).waitingWorkers(), "worker 1 waits for worker 0");
        ex.get(0).abort(new IllegalStateException("worker 0 failed"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(30, TimeUnit.SECONDS));
        VineyardException v = assertInstanceOf(VineyardException.class, e.getCause());
        assertEquals(Status.CONNECTION_ERROR, v.status());
        assertThrows(VineyardException.class, () -> ex.get(0).sum(1L), "later calls fail too");
    }
}
