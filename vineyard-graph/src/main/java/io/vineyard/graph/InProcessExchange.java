package io.vineyard.graph;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link Exchange} between threads of one JVM: a square of mailboxes ({@code slots[from][to]}) and a
 * barrier. A collective call writes this worker's row, waits for every worker (the messages are then
 * all in place), reads its column, and waits again (so that no worker writes the next round's messages
 * before every worker has read this round's). A broken barrier (an abort, a worker that does not come
 * within {@link #TIMEOUT_MS}) fails the call of every worker.
 */
final class InProcessExchange implements Exchange {
    /** How long a worker waits for the others at one step before it gives up. */
    static final long TIMEOUT_MS = 120_000;

    private final Shared shared;
    private final int self;

    private static final class Shared {
        final Object[][] slots;
        final CyclicBarrier barrier;
        volatile Throwable abort;

        Shared(int n) {
            slots = new Object[n][n];
            barrier = new CyclicBarrier(n);
        }
    }

    private InProcessExchange(Shared shared, int self) {
        this.shared = shared;
        this.self = self;
    }

    static List<Exchange> create(int workers) {
        if (workers < 1) {
            throw new VineyardException.Invalid("an exchange needs at least one worker, got " + workers);
        }
        Shared shared = new Shared(workers);
        List<Exchange> out = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            out.add(new InProcessExchange(shared, w));
        }
        return List.copyOf(out);
    }

    @Override
    public int workers() {
        return shared.slots.length;
    }

    @Override
    public int self() {
        return self;
    }

    @Override
    public long[][] allToAll(long[][] outgoing) {
        long[][] in = new long[workers()][];
        Object[] got = exchange(outgoing);
        for (int w = 0; w < in.length; w++) {
            in[w] = (long[]) got[w];
        }
        return in;
    }

    @Override
    public double[][] allToAll(double[][] outgoing) {
        double[][] in = new double[workers()][];
        Object[] got = exchange(outgoing);
        for (int w = 0; w < in.length; w++) {
            in[w] = (double[]) got[w];
        }
        return in;
    }

    private Object[] exchange(Object[] outgoing) {
        int n = workers();
        if (outgoing.length != n) {
            throw new VineyardException.Invalid("worker " + self + ": " + outgoing.length + " messages for " + n + " workers");
        }
        for (int w = 0; w < n; w++) {
            shared.slots[self][w] = outgoing[w];
        }
        await();
        Object[] in = new Object[n];
        for (int w = 0; w < n; w++) {
            in[w] = shared.slots[w][self];
        }
        await();
        return in;
    }

    private void await() {
        failIfAborted();
        try {
            shared.barrier.await(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort(e);
            throw new VineyardException(Status.CONNECTION_ERROR, "worker " + self + " was interrupted in an exchange", e);
        } catch (BrokenBarrierException | TimeoutException e) {
            failIfAborted();
            throw new VineyardException(Status.CONNECTION_ERROR, "worker " + self + ": another worker did not reach the exchange within "
                    + TIMEOUT_MS + " ms", e);
        }
    }

    private void failIfAborted() {
        Throwable cause = shared.abort;
        if (cause != null) {
            throw new VineyardException(Status.CONNECTION_ERROR, "worker " + self + ": the exchange was aborted by a failed worker", cause);
        }
    }

    /** The workers waiting at the barrier now (for tests). */
    int waitingWorkers() {
        return shared.barrier.getNumberWaiting();
    }

    @Override
    public void abort(Throwable cause) {
        if (shared.abort == null) {
            shared.abort = cause;
        }
        shared.barrier.reset();
    }
}
