package io.vineyard.server.cluster;

import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vineyard.server.meta.MetaOp;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Group commit: the small changes of concurrent requests (a persist, a name, a delete) share etcd
 * transactions. A change that arrives while {@code maxInFlight} transactions are on their way waits
 * for the next one, which takes every waiting change that fits: at most {@code maxOps} etcd operations
 * (etcd's {@code --max-txn-ops}) and no two changes touching the same key (etcd refuses a transaction
 * with duplicate or overlapping keys). A lone change goes at once, so a quiet daemon pays no extra
 * latency; a busy one sends fewer transactions, and every daemon of the cluster receives fewer watch
 * events (one revision per transaction), which is what the replica's cost is made of.
 *
 * <p>Each change stays atomic (all its operations are in one transaction). When etcd refuses a shared
 * transaction for its content (a value too large, say), each change of it is sent again on its own,
 * so one request's bad change never fails another's; when etcd is unreachable, all of them fail.
 */
final class GroupCommit {
    private final int maxOps;
    private final int maxInFlight;
    private final Function<List<MetaOp>, CompletableFuture<?>> txn;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private int inFlight;
    private final AtomicLong transactions = new AtomicLong();
    private final AtomicLong changes = new AtomicLong();

    /** One request's change and what its caller waits on. */
    record Pending(List<MetaOp> ops, CompletableFuture<Void> done) {
    }

    /**
     * @param txn sends the operations as one etcd transaction
     */
    GroupCommit(int maxOps, int maxInFlight, Function<List<MetaOp>, CompletableFuture<?>> txn) {
        this.maxOps = maxOps;
        this.maxInFlight = maxInFlight;
        this.txn = txn;
    }

    /** The etcd operations {@code op} becomes (a tree delete is two: the key and its range). */
    static int etcdOps(MetaOp op) {
        return op.isDelete() && op.prefix() ? 2 : 1;
    }

    static int etcdOps(List<MetaOp> ops) {
        int n = 0;
        for (MetaOp op : ops) {
            n += etcdOps(op);
        }
        return n;
    }

    /** Queues a change (at most {@code maxOps} etcd operations); completes once etcd has it. */
    CompletableFuture<Void> submit(List<MetaOp> ops) {
        Pending p = new Pending(List.copyOf(ops), new CompletableFuture<>());
        synchronized (this) {
            queue.add(p);
        }
        pump();
        return p.done;
    }

    /** Transactions sent and changes they carried (the ratio is the batching). */
    long transactions() {
        return transactions.get();
    }

    long changes() {
        return changes.get();
    }

    private void pump() {
        while (true) {
            List<Pending> batch;
            synchronized (this) {
                if (inFlight >= maxInFlight || queue.isEmpty()) {
                    return;
                }
                batch = take(queue, maxOps);
                inFlight++;
            }
            send(batch);
        }
    }

    private void send(List<Pending> batch) {
        List<MetaOp> all = new ArrayList<>();
        for (Pending p : batch) {
            all.addAll(p.ops());
        }
        transactions.incrementAndGet();
        changes.addAndGet(batch.size());
        call(all).whenComplete((r, e) -> {
            try {
                if (e == null) {
                    batch.forEach(p -> p.done().complete(null));
                } else if (batch.size() > 1 && refused(e)) {
                    for (Pending p : batch) {
                        transactions.incrementAndGet();
                        call(p.ops()).whenComplete((r2, e2) -> finish(p, e2));
                    }
                } else {
                    batch.forEach(p -> p.done().completeExceptionally(e));
                }
            } finally {
                synchronized (this) {
                    inFlight--;
                }
                pump();
            }
        });
    }

    private CompletableFuture<?> call(List<MetaOp> ops) {
        try {
            return txn.apply(ops);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static void finish(Pending p, Throwable e) {
        if (e == null) {
            p.done().complete(null);
        } else {
            p.done().completeExceptionally(e);
        }
    }

    /** Whether etcd answered and refused the transaction for what it held (not a timeout or an outage). */
    static boolean refused(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EtcdException ee) {
                ErrorCode c = ee.getErrorCode();
                return c == ErrorCode.INVALID_ARGUMENT || c == ErrorCode.FAILED_PRECONDITION
                        || c == ErrorCode.OUT_OF_RANGE || c == ErrorCode.RESOURCE_EXHAUSTED;
            }
            if (t instanceof StatusRuntimeException se) {
                Status.Code c = se.getStatus().getCode();
                return c == Status.Code.INVALID_ARGUMENT || c == Status.Code.FAILED_PRECONDITION
                        || c == Status.Code.OUT_OF_RANGE || c == Status.Code.RESOURCE_EXHAUSTED;
            }
        }
        return false;
    }

    /**
     * Takes from the head of {@code queue} the changes that can share one transaction: in order, while
     * they fit in {@code maxOps} and touch no key an earlier one of the batch touches. The head always
     * goes (a change that alone exceeds the limit is the caller's to split). A change that does not fit
     * ends the batch, so changes are never reordered.
     */
    static List<Pending> take(ArrayDeque<Pending> queue, int maxOps) {
        List<Pending> batch = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        List<String> ranges = new ArrayList<>();
        int ops = 0;
        while (!queue.isEmpty()) {
            Pending next = queue.peek();
            int n = etcdOps(next.ops());
            if (!batch.isEmpty() && (ops + n > maxOps || overlaps(next.ops(), keys, ranges))) {
                break;
            }
            queue.poll();
            batch.add(next);
            ops += n;
            for (MetaOp op : next.ops()) {
                keys.add(op.key());
                if (op.isDelete() && op.prefix()) {
                    ranges.add(op.key() + "/");
                }
            }
        }
        return batch;
    }

    private static boolean overlaps(List<MetaOp> ops, Set<String> keys, List<String> ranges) {
        for (MetaOp op : ops) {
            if (keys.contains(op.key())) {
                return true;
            }
            for (String r : ranges) {
                if (op.key().startsWith(r)) {
                    return true;
                }
            }
            if (op.isDelete() && op.prefix()) {
                String mine = op.key() + "/";
                for (String k : keys) {
                    if (k.startsWith(mine)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
