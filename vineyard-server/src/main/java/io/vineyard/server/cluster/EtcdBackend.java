package io.vineyard.server.cluster;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.server.meta.MetaKeys;
import io.vineyard.server.meta.MetaOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The etcd metadata backend ({@code --meta=etcd}, spec 6): vineyard's key layout under
 * {@code <etcd_prefix>/S<session>}, instance ids from {@code /next_instance_id}, a lease for the
 * instance's keys, and a replica of the whole prefix kept by a watch.
 *
 * <p>Design notes.
 * <ul>
 *   <li>Replication: a paginated load (250,000 keys a page, all at one revision, the next asked for while one is applied) then a watch from the
 *       next revision. A broken watch is opened again from the last applied revision (jetcd's own watcher
 *       does not resume after a leader loss, jetcd#1352); a watch that went quiet while etcd's revision
 *       moved is asked for a progress notification and restarted when none comes.</li>
 *   <li>Liveness: the instance's keys are bound to an etcd lease ({@code --etcd_lease_ttl}, 10 s) that a
 *       heartbeat renews every third of it, instead of vineyard's timestamps polled by a ring neighbour
 *       every 10 s. A dead instance's keys vanish with its lease; its objects' metadata stays readable
 *       and is marked gone by the instance's absence from {@code cluster_meta} (see the README).</li>
 *   <li>Recovery: when the lease is unknown to etcd (etcd restarted empty, or this instance was cut off
 *       longer than the TTL), the instance registers again under the same id, publishes its persisted
 *       objects and names again and reloads the replica (v6d#2034).</li>
 *   <li>Every request to etcd is bounded by {@code opTimeoutMs}; a request that needs etcd fails with
 *       {@code ETCD_ERROR} in that time while requests on local objects never wait for etcd (v6d#1947).</li>
 * </ul>
 * Maintenance (heartbeat, re-watch, recovery) runs on one scheduler thread, so it never races itself.
 */
public final class EtcdBackend implements MetaBackend {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdBackend.class);
    /** etcd's default {@code --max-txn-ops} is 128. */
    static final int TXN_OPS = 127;
    /** Shared transactions on their way at once; a change arriving meanwhile goes in the next. */
    private static final int GROUP_IN_FLIGHT = 2;
    private static final int IN_FLIGHT = 16;
    /**
     * Keys per page of the initial load. etcd 3.4 walks the whole remaining range for every page (to
     * count it), so pages must be few: 250,000 keys of vineyard metadata are about 50 MB.
     */
    private static final int PAGE = 250_000;
    private static final long LOAD_PAGE_TIMEOUT_MS = 30_000;
    private static final long TIMESTAMP_EVERY_MS = 10_000;
    private static final long REWATCH_DELAY_MS = 500;

    /** Who this instance is, as its keys under {@code /instances/i<n>/} say. */
    public record Identity(String hostname, String nodename, String rpcEndpoint, String ipcSocket) {
    }

    private final EtcdSettings settings;
    private final Client client;
    private final KV kv;
    private final String prefix;
    private final ByteSequence prefixKey;
    private final ScheduledExecutorService scheduler;
    /** Small commits of concurrent requests, sent together. */
    private final GroupCommit group;
    private final Object progress = new Object();
    private volatile long applied;
    private volatile long instanceId = -1;
    private volatile long leaseId;
    private volatile boolean closed;
    /** Set once the initial load is done: until then the heartbeat only renews the lease. */
    private volatile boolean replicating;
    private Replica replica;
    private Identity identity;
    private Watch.Watcher watcher;
    private volatile int watchGeneration;
    private long lastTimestampMs;
    private final java.util.concurrent.atomic.AtomicLong commits = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong commitErrors = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong recoveries = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong watchRestarts = new java.util.concurrent.atomic.AtomicLong();
    private long stalledSince = -1;
    private boolean needsRecovery;

    private EtcdBackend(EtcdSettings settings, Client client) {
        this.settings = settings;
        this.client = client;
        this.kv = client.getKVClient();
        this.prefix = settings.sessionPrefix();
        this.prefixKey = bytes(prefix + "/");
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon()
                .name("vineyard-etcd").unstarted(r));
        this.group = new GroupCommit(TXN_OPS, GROUP_IN_FLIGHT, this::txnOf);
    }

    /**
     * Connects and waits (at most {@code --meta_timeout}) until etcd answers.
     *
     * @throws IllegalStateException with a message naming the endpoint when it does not answer in time
     * @throws IllegalArgumentException when an endpoint is not a URL
     */
    public static EtcdBackend connect(EtcdSettings settings) {
        Client client;
        try {
            client = Client.builder().endpoints(settings.endpoints().toArray(String[]::new))
                    .connectTimeout(Duration.ofMillis(Math.min(2000, settings.opTimeoutMs())))
                    .retryMaxDuration(Duration.ofMillis(settings.opTimeoutMs()))
                    .retryMaxAttempts(2)
                    .maxInboundMessageSize(256 << 20)
                    .build();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--etcd_endpoint=" + String.join(",", settings.endpoints())
                    + " is not a list of etcd URLs like http://127.0.0.1:2379: " + e.getMessage(), e);
        }
        EtcdBackend backend = new EtcdBackend(settings, client);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.metaTimeoutSec());
        Throwable last = null;
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                backend.closeClient();
                throw new IllegalStateException("etcd at " + String.join(",", settings.endpoints())
                        + " did not answer within --meta_timeout=" + settings.metaTimeoutSec() + " s: "
                        + (last == null ? "no answer" : describe(last)));
            }
            try {
                await(backend.kv.get(backend.key(MetaKeys.NEXT_INSTANCE_ID)), Math.min(left, 2000));
                return backend;
            } catch (VineyardException e) {
                last = e.getCause() != null ? e.getCause() : e;
                LOG.debug("etcd not ready yet: {}", describe(last));
                try {
                    Thread.sleep(Math.min(200, Math.max(1, left)));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    backend.closeClient();
                    throw new IllegalStateException("interrupted while waiting for etcd", ie);
                }
            }
        }
    }

    /** Takes the next instance id from {@code /next_instance_id} (compare-and-swap; ids are never reused). */
    public long allocateInstanceId() {
        instanceId = swapNextInstanceId(current -> current + 1);
        return instanceId;
    }

    /**
     * Compare-and-swap on {@code /next_instance_id} (0 when absent): writes {@code next.applyAsLong(current)}
     * unless that is negative (leave it), retrying while another instance changes it meanwhile.
     *
     * @return the value read before the write
     */
    private long swapNextInstanceId(java.util.function.LongUnaryOperator next) {
        ByteSequence key = key(MetaKeys.NEXT_INSTANCE_ID);
        for (int attempt = 0; attempt < 1000; attempt++) {
            GetResponse r = await(kv.get(key), settings.opTimeoutMs());
            long current = 0;
            Cmp unchanged = new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0));
            if (r.getCount() > 0) {
                KeyValue kvp = r.getKvs().get(0);
                current = parseLong(kvp.getValue());
                unchanged = new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(kvp.getModRevision()));
            }
            long value = next.applyAsLong(current);
            if (value < 0 || await(kv.txn().If(unchanged).Then(Op.put(key, bytes(Long.toString(value)), PutOption.DEFAULT))
                    .commit(), settings.opTimeoutMs()).isSucceeded()) {
                return current;
            }
        }
        throw new VineyardException(Status.ETCD_ERROR, "could not update " + prefix + MetaKeys.NEXT_INSTANCE_ID
                + ": too many concurrent registrations");
    }

    /**
     * Registers this instance (its keys under the lease), loads the replica and starts the watch and
     * the heartbeat. Returns once the replica holds everything etcd had.
     */
    public void start(Replica replica, Identity identity) {
        this.replica = replica;
        this.identity = identity;
        register();
        // the heartbeat keeps the lease while a large prefix loads (a million keys take tens of seconds)
        long every = Math.max(300, settings.leaseTtlSec() * 1000L / 3);
        scheduler.scheduleWithFixedDelay(this::heartbeat, every, every, TimeUnit.MILLISECONDS);
        long rev = load();
        scheduler.execute(() -> watchFrom(rev + 1));
        replicating = true;
    }

    @Override
    public String name() {
        return "etcd";
    }

    @Override
    public boolean shared() {
        return true;
    }

    public long instanceId() {
        return instanceId;
    }

    /** The backend's series on the daemon's Prometheus endpoint. */
    public void registerMetrics(io.vineyard.server.metrics.DaemonMetrics m) {
        m.gauge("vineyard_etcd_applied_revision", "The etcd revision the metadata replica has applied", () -> applied);
        m.counterOf("vineyard_etcd_commits", "Changes committed to etcd (one or more transactions each)", commits::get);
        m.counterOf("vineyard_etcd_group_transactions", "etcd transactions that carried the changes of one or more requests",
                group::transactions);
        m.counterOf("vineyard_etcd_group_changes", "Requests' changes sent in shared transactions (over the transactions: the batching)",
                group::changes);
        m.counterOf("vineyard_etcd_commit_errors", "Changes etcd did not take (the request failed with EtcdError)",
                commitErrors::get);
        m.counterOf("vineyard_etcd_recoveries", "Registrations again after etcd lost this instance's lease or data",
                recoveries::get);
        m.counterOf("vineyard_etcd_watch_restarts", "Watches opened again after one broke or stalled", watchRestarts::get);
    }

    /** The revision the replica has applied (tests and metrics). */
    public long appliedRevision() {
        return applied;
    }

    /**
     * Large commits (a persist of thousands of members) send all transactions but the last at once,
     * at most {@value #IN_FLIGHT} in flight, then the last: it holds the top-level object, which readers
     * thus see only after every member (vineyard sends them one after another).
     */
    @Override
    public void commit(List<MetaOp> ops) {
        try {
            if (GroupCommit.etcdOps(ops) <= TXN_OPS) {
                await(group.submit(ops), settings.opTimeoutMs());   // shares a transaction with concurrent ones
            } else {
                commitTxns(ops);
            }
            commits.incrementAndGet();
        } catch (RuntimeException e) {
            commitErrors.incrementAndGet();
            throw e;
        }
    }

    private void commitTxns(List<MetaOp> ops) {
        List<List<Op>> txns = new ArrayList<>();
        List<Op> txn = new ArrayList<>();
        for (MetaOp op : ops) {
            List<Op> these = toEtcd(op);
            if (txn.size() + these.size() > TXN_OPS) {
                txns.add(txn);
                txn = new ArrayList<>();
            }
            txn.addAll(these);
        }
        if (!txn.isEmpty()) {
            txns.add(txn);
        }
        // a delete goes parent first (MetaStore.deleteSet): its transactions are committed one after
        // another, so that every replica applies them in that order (a replica keeps a member of its own
        // whose parent is still there); a put's may go together, its last transaction (the root) waits
        int inFlight = ops.stream().anyMatch(MetaOp::isDelete) ? 1 : IN_FLIGHT;
        List<CompletableFuture<TxnResponse>> pending = new ArrayList<>();
        for (int i = 0; i < txns.size() - 1; i++) {
            if (pending.size() == inFlight) {
                await(pending.removeFirst(), settings.opTimeoutMs());
            }
            pending.add(kv.txn().Then(txns.get(i).toArray(Op[]::new)).commit());
        }
        for (CompletableFuture<TxnResponse> f : pending) {
            await(f, settings.opTimeoutMs());
        }
        if (!txns.isEmpty()) {
            await(kv.txn().Then(txns.getLast().toArray(Op[]::new)).commit(), settings.opTimeoutMs());
        }
    }

    private CompletableFuture<TxnResponse> txnOf(List<MetaOp> ops) {
        List<Op> all = new ArrayList<>();
        for (MetaOp op : ops) {
            all.addAll(toEtcd(op));
        }
        return kv.txn().Then(all.toArray(Op[]::new)).commit();
    }

    private List<Op> toEtcd(MetaOp op) {
        ByteSequence k = key(op.key());
        if (!op.isDelete()) {
            return List.of(Op.put(k, bytes(op.value()), PutOption.DEFAULT));
        }
        Op one = Op.delete(k, DeleteOption.DEFAULT);
        return op.prefix() ? List.of(one, Op.delete(key(op.key() + "/"), DeleteOption.builder().isPrefix(true).build()))
                : List.of(one);
    }

    @Override
    public void syncRemote() {
        long head = headRevision();
        if (applied >= head) {
            return;
        }
        client.getWatchClient().requestProgress();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.opTimeoutMs());
        synchronized (progress) {
            while (applied < head) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new VineyardException(Status.ETCD_ERROR, "the metadata replica is at revision " + applied
                            + ", etcd at " + head + ": the watch did not catch up within " + settings.opTimeoutMs() + " ms");
                }
                try {
                    progress.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new VineyardException(Status.ETCD_ERROR, "interrupted while syncing with etcd");
                }
            }
        }
    }

    /** etcd's current revision, from a linearizable read. */
    private long headRevision() {
        return await(kv.get(key(MetaKeys.NEXT_INSTANCE_ID), GetOption.builder().withCountOnly(true).build()),
                settings.opTimeoutMs()).getHeader().getRevision();
    }

    // ---- registration, load, watch ----

    /**
     * Grants a lease and writes this instance's keys under it. A lease that expired before the keys were
     * written (a machine so loaded that more than the TTL passed between the grant and the write) is
     * granted again, a few times, rather than failing the start.
     */
    private void register() {
        for (int attempt = 1; ; attempt++) {
            try {
                registerOnce();
                return;
            } catch (VineyardException e) {
                if (attempt >= 3 || !leaseUnknown(e)) {
                    throw e;
                }
                LOG.warn("lease {} expired before instance i{} registered under it (attempt {}): granting another",
                        leaseId, instanceId, attempt);
            }
        }
    }

    private void registerOnce() {
        leaseId = await(client.getLeaseClient().grant(settings.leaseTtlSec()), settings.opTimeoutMs()).getID();
        PutOption withLease = PutOption.builder().withLeaseId(leaseId).build();
        String base = MetaKeys.instance(instanceId);
        long now = System.currentTimeMillis();
        lastTimestampMs = now;
        List<Op> ops = List.of(
                Op.put(key(base + "/hostid"), bytes(Integer.toUnsignedString(identity.hostname().hashCode())), withLease),
                Op.put(key(base + "/hostname"), bytes(quote(identity.hostname())), withLease),
                Op.put(key(base + "/nodename"), bytes(quote(identity.nodename())), withLease),
                Op.put(key(base + "/rpc_endpoint"), bytes(quote(identity.rpcEndpoint())), withLease),
                Op.put(key(base + "/ipc_socket"), bytes(quote(identity.ipcSocket())), withLease),
                Op.put(key(base + "/timestamp"), bytes(Long.toString(now)), withLease));
        await(kv.txn().Then(ops.toArray(Op[]::new)).commit(), settings.opTimeoutMs());
        LOG.info("registered in etcd as instance i{} under {} (lease ttl {} s)", instanceId, prefix, settings.leaseTtlSec());
    }

    /**
     * Loads the whole prefix into the replica, a page at a time at one revision; returns that revision.
     * The next page is asked for before the current one is applied, so etcd and the daemon work at once.
     */
    private long load() {
        ByteSequence end = bytes(prefix + "0"); // '0' follows '/': the end of the prefix's range
        long keys = 0;
        long t0 = System.nanoTime();
        GetResponse r = await(kv.get(prefixKey, page(end, 0)), LOAD_PAGE_TIMEOUT_MS);
        long rev = r.getHeader().getRevision();
        while (true) {
            CompletableFuture<GetResponse> next = null;
            if (r.isMore() && !r.getKvs().isEmpty()) {
                byte[] last = r.getKvs().get(r.getKvs().size() - 1).getKey().getBytes();
                next = kv.get(ByteSequence.from(Arrays.copyOf(last, last.length + 1)), page(end, rev)); // the key after it
            }
            List<MetaOp> ops = new ArrayList<>(r.getKvs().size());
            for (KeyValue kvp : r.getKvs()) {
                ops.add(MetaOp.received(relative(kvp.getKey()), kvp.getValue().toString(StandardCharsets.UTF_8)));
            }
            replica.apply(ops);
            keys += ops.size();
            if (next == null) {
                break;
            }
            r = await(next, LOAD_PAGE_TIMEOUT_MS);
        }
        LOG.info("loaded {} etcd keys at revision {} in {} ms", keys, rev, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        advance(rev);
        return rev;
    }

    /**
     * One page of the load: no sort option (etcd returns keys in order anyway, and with one it reads
     * the whole range for every page before cutting it to the limit), at {@code rev} once known.
     */
    private static GetOption page(ByteSequence end, long rev) {
        GetOption.Builder b = GetOption.builder().withRange(end).withLimit(PAGE);
        if (rev > 0) {
            b.withRevision(rev);
        }
        return b.build();
    }

    private void watchFrom(long revision) {
        int generation = ++watchGeneration;
        if (generation > 1) {
            watchRestarts.incrementAndGet();
        }
        if (watcher != null) {
            watcher.close();
        }
        WatchOption option = WatchOption.builder().isPrefix(true).withRevision(revision).withProgressNotify(true).build();
        watcher = client.getWatchClient().watch(prefixKey, option,
                Watch.listener(r -> onWatch(generation, r), e -> onWatchError(generation, e)));
    }

    private void onWatch(int generation, WatchResponse r) {
        if (generation != watchGeneration || closed) {
            return;
        }
        List<WatchEvent> events = r.getEvents();
        if (events.isEmpty()) {
            if (r.isProgressNotify()) {
                advance(r.getHeader().getRevision());
            }
            return;
        }
        List<MetaOp> ops = new ArrayList<>(events.size());
        long rev = applied;
        for (WatchEvent e : events) {
            KeyValue kvp = e.getKeyValue();
            String k = relative(kvp.getKey());
            ops.add(switch (e.getEventType()) {
                case PUT -> MetaOp.received(k, kvp.getValue().toString(StandardCharsets.UTF_8));
                case DELETE -> MetaOp.delete(k);
                default -> null;
            });
            rev = Math.max(rev, kvp.getModRevision());
        }
        ops.removeIf(java.util.Objects::isNull);
        replica.apply(ops);
        advance(rev);
    }

    private void onWatchError(int generation, Throwable e) {
        if (generation != watchGeneration || closed) {
            return;
        }
        if (e instanceof CompactedException || e.getCause() instanceof CompactedException) {
            LOG.warn("etcd compacted past revision {}: reloading the replica", applied);
            reload();
            return;
        }
        LOG.debug("etcd watch broke ({}): watching again from revision {}", describe(e), applied + 1);
        try {
            scheduler.schedule(() -> {
                if (generation == watchGeneration && !closed) {
                    watchFrom(applied + 1);
                }
            }, REWATCH_DELAY_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // the daemon is closing: no watch any more
        }
    }

    /** After a compaction past the watch: the next heartbeat reloads (see {@link #recover}). */
    private void reload() {
        needsRecovery = true;
    }

    private void advance(long rev) {
        synchronized (progress) {
            if (rev > applied) {
                applied = rev;
            }
            progress.notifyAll();
        }
    }

    // ---- heartbeat and recovery ----

    private void heartbeat() {
        if (closed) {
            return;
        }
        try {
            if (needsRecovery) {
                recover();
                return;
            }
            LeaseKeepAliveResponse r;
            try {
                r = await(client.getLeaseClient().keepAliveOnce(leaseId), settings.opTimeoutMs());
            } catch (VineyardException e) {
                if (leaseUnknown(e) && !replicating) {
                    register(); // lost during the initial load: the load itself still sees everything
                } else if (leaseUnknown(e)) {
                    LOG.warn("etcd no longer knows this instance's lease (etcd restarted empty, or i{} was cut off longer than "
                            + "{} s): registering again and publishing its objects", instanceId, settings.leaseTtlSec());
                    recover();
                } else {
                    LOG.debug("etcd heartbeat failed: {}", describe(e));
                }
                return;
            }
            if (r.getTTL() <= 0) {
                if (replicating) {
                    recover();
                } else {
                    register();
                }
                return;
            }
            if (!replicating) {
                return;
            }
            // a linearizable read's revision (a keep-alive's header may lag behind the watch), against what
            // was applied before the read was sent: etcd can only be behind that when it lost its data
            long appliedBefore = applied;
            long head = headRevision();
            if (head < appliedBefore) {
                LOG.warn("etcd is at revision {}, behind the replica's {}: it lost its data", head, appliedBefore);
                recover();
                return;
            }
            checkWatch(head);
            long now = System.currentTimeMillis();
            if (now - lastTimestampMs >= TIMESTAMP_EVERY_MS) {
                // vineyard's instances watch this timestamp: keep it moving for a vineyardd on the same prefix
                await(kv.put(key(MetaKeys.instance(instanceId) + "/timestamp"), bytes(Long.toString(now)),
                        PutOption.builder().withLeaseId(leaseId).build()), settings.opTimeoutMs());
                lastTimestampMs = now;
            }
        } catch (RuntimeException e) {
            LOG.debug("etcd heartbeat: {}", describe(e));
        }
    }

    /** A watch that stays behind etcd's revision over two heartbeats despite a progress request starts again. */
    private void checkWatch(long head) {
        if (applied >= head) {
            stalledSince = -1;
            return;
        }
        if (stalledSince >= 0 && applied <= stalledSince) {
            LOG.info("etcd watch made no progress since revision {}: watching again", applied);
            watchFrom(applied + 1);
            stalledSince = -1;
            return;
        }
        stalledSince = applied;
        client.getWatchClient().requestProgress();
    }

    /**
     * Registers again (a new lease, the same id), publishes this instance's persisted objects and names
     * again and reloads the replica. A failure leaves {@code needsRecovery} set: the next heartbeat retries.
     */
    private void recover() {
        needsRecovery = true;
        long self = instanceId;
        swapNextInstanceId(current -> current > self ? -1 : self + 1); // never hand out this id again
        register();
        replica.forget();
        commit(replica.republishOps());
        replica.republished();
        watchFrom(load() + 1);
        needsRecovery = false;
        recoveries.incrementAndGet();
        LOG.info("instance i{} registered again, republished its objects and reloaded the replica", instanceId);
    }

    private static boolean leaseUnknown(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof io.etcd.jetcd.lease.NoSuchLeaseException
                    || t.getMessage() != null && t.getMessage().contains("requested lease not found")) {
                return true;
            }
        }
        return false;
    }

    /** Revokes the lease (the instance's keys vanish at once) and disconnects. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        scheduler.shutdownNow();
        if (watcher != null) {
            watcher.close();
        }
        if (leaseId != 0) {
            try {
                await(client.getLeaseClient().revoke(leaseId), Math.min(1000, settings.opTimeoutMs()));
            } catch (RuntimeException e) {
                LOG.debug("revoking the lease at shutdown failed: {}", describe(e));
            }
        }
        closeClient();
    }

    private void closeClient() {
        try {
            client.close();
        } catch (RuntimeException e) {
            LOG.debug("closing the etcd client: {}", e.toString());
        }
    }

    // ---- helpers ----

    private ByteSequence key(String relative) {
        return bytes(prefix + relative);
    }

    private String relative(ByteSequence key) {
        return key.toString(StandardCharsets.UTF_8).substring(prefix.length());
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static long parseLong(ByteSequence value) {
        return Long.parseLong(value.toString(StandardCharsets.UTF_8).trim());
    }

    private static String quote(String s) {
        return JsonNodeFactory.instance.textNode(s).toString();
    }

    private static String describe(Throwable e) {
        Throwable t = e;
        while ((t instanceof ExecutionException || t instanceof java.util.concurrent.CompletionException
                || t instanceof VineyardException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    /** Waits for an etcd request at most {@code timeoutMs}; any failure is {@code ETCD_ERROR}. */
    static <T> T await(CompletableFuture<T> f, long timeoutMs) {
        try {
            return f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new VineyardException(Status.ETCD_ERROR, "etcd did not answer within " + timeoutMs + " ms", e);
        } catch (ExecutionException e) {
            throw new VineyardException(Status.ETCD_ERROR, "etcd: " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(true);
            throw new VineyardException(Status.ETCD_ERROR, "interrupted while waiting for etcd", e);
        }
    }
}
