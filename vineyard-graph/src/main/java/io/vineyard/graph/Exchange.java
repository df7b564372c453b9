package io.vineyard.graph;

import java.util.List;

/**
 * The communication of a distributed graph computation: one endpoint per worker (one worker per instance
 * of a fragment group), through which the workers exchange messages of primitive arrays in supersteps, as
 * GraphScope's workers do over MPI. Every worker calls the same sequence of collective operations; each
 * call returns once every worker has made it.
 *
 * <p>{@link #inProcess(int)} connects workers that run as threads of one JVM (each with its own client of
 * its own daemon). A failed worker {@link #abort aborts} the exchange, so that the others fail instead of
 * waiting for it.
 */
public interface Exchange {
    /** The number of workers. */
    int workers();

    /** This worker's rank, {@code 0..workers()-1}. */
    int self();

    /**
     * All-to-all: {@code outgoing[w]} goes to worker {@code w} (this one included); returns what every
     * worker sent to this one, {@code incoming[w]} from worker {@code w}. The arrays are not copied: a
     * sender does not touch an array it sent, a receiver does not write into one it received.
     */
    long[][] allToAll(long[][] outgoing);

    /** All-to-all of doubles, as {@link #allToAll(long[][])}. */
    double[][] allToAll(double[][] outgoing);

    /** The sum over the workers of their {@code value} (the same result, summed in rank order, on every worker). */
    default long sum(long value) {
        long[][] out = new long[workers()][];
        java.util.Arrays.fill(out, new long[] {value});
        long s = 0;
        for (long[] in : allToAll(out)) {
            s += in[0];
        }
        return s;
    }

    /** The sum over the workers of their {@code value}, in rank order (so the same double on every worker). */
    default double sum(double value) {
        double[][] out = new double[workers()][];
        java.util.Arrays.fill(out, new double[] {value});
        double s = 0;
        for (double[] in : allToAll(out)) {
            s += in[0];
        }
        return s;
    }

    /** Fails this and every later collective call of every worker, with {@code cause}: a worker gave up. */
    void abort(Throwable cause);

    /** {@code workers} connected endpoints for threads of this JVM, by rank. */
    static List<Exchange> inProcess(int workers) {
        return InProcessExchange.create(workers);
    }
}
