package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.daemon.Spiller;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.HandlerTable;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;
import io.vineyard.server.stream.StreamStore;

import java.util.Map;

/** Connection and status requests: register, exit, instance status, cluster meta, statistics. */
public final class AdminHandlers implements HandlerGroup {
    /** The protocol version this daemon speaks. */
    public static final String VERSION = "0.24.4";

    private final DaemonContext ctx;

    public AdminHandlers(DaemonContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.of(
                "register_request", this::register,
                "exit_request", (peer, req) -> peer.requestExit(),
                "instance_status_request", (peer, req) -> peer.send(instanceStatus()),
                "cluster_meta", (peer, req) -> peer.send(clusterMeta()),
                "memory_trim_request", this::memoryTrim,
                "debug_command", (peer, req) -> peer.send(Replies.reply("debug_reply").putNull("result")),
                "server_stats_request", this::serverStats);
    }

    private void register(Peer peer, ObjectNode req) {
        Fields.string(req, "version", "0.0.0"); // read and type-checked, never enforced (as vineyard)
        JsonNode storeType = req.get("store_type");
        int mine = ctx.scope().storeType();
        boolean storeMatch = storeType != null
                && (storeType.isIntegralNumber() && storeType.longValue() == mine
                || storeType.isTextual() && storeType.textValue().equals(mine == 1 ? "Normal" : "Plasma"));
        long session = Fields.u64(req, "session_id", 0);
        if (session != 0 && session != ctx.scope().id()) {
            // over IPC a session is chosen by its socket (vineyard switches sessions by id only over RPC)
            throw new VineyardException.Invalid("session " + Long.toUnsignedString(session)
                    + " is not the session of this socket: connect to its own socket (new_session's socket_path)");
        }
        if (ctx.authenticator().enabled()) {
            String why = ctx.authenticator().verify(Fields.string(req, "username", ""),
                    Fields.string(req, "password", ""));
            if (why != null) {
                throw new VineyardException(Status.CONNECTION_ERROR,
                        "IOError: Incorrect username and password: " + why);
            }
        }
        peer.markRegistered();
        ObjectNode r = Replies.reply("register_reply");
        r.put("ipc_socket", ctx.config().socketPath());
        r.put("rpc_endpoint", ctx.rpcEndpoint());
        r.put("instance_id", ctx.instanceId());
        r.put("session_id", ctx.scope().id());
        r.put("version", VERSION);
        r.put("store_match", storeMatch);
        r.put("support_rpc_compression", ctx.config().compression());
        if (ctx.config().extensions()) {
            // vineyard's clients ignore unknown fields; ours use an extension only when it is listed
            HandlerTable.EXTENSIONS.forEach(r.putArray("extensions")::add);
        }
        peer.send(r);
    }

    /**
     * {@code memory_usage} counts the bytes of visible blobs, as vineyard does; bytes of deleted
     * blobs that some connection still holds (their memory is reused only once nobody can see it)
     * are reported apart, as {@code deferred_free_bytes} of {@code server_stats} (the reply keeps
     * vineyard's exact fields).
     */
    private ObjectNode instanceStatus() {
        ObjectNode meta = ctx.locked(() -> {
            ObjectNode m = Json.object();
            m.put("instance_id", ctx.instanceId());
            m.put("deployment", ctx.config().deployment());
            m.put("memory_usage", ctx.blobs().usageBytes());
            m.put("memory_limit", ctx.blobs().limitBytes());
            m.put("deferred_requests", ctx.deferredRequests());
            m.put("ipc_connections", ctx.ipcConnections());
            m.put("rpc_connections", ctx.rpcConnections());
            return m;
        });
        ObjectNode r = Replies.reply("instance_status_reply");
        r.set("meta", meta);
        return r;
    }

    private ObjectNode clusterMeta() {
        if (ctx.shared()) {
            // every live instance, as registered in etcd (a dead one's keys went with its lease)
            ctx.backend().syncRemote();
            ObjectNode r = Replies.reply("cluster_meta");
            r.set("meta", ctx.locked(() -> ctx.meta().instancesJson()));
            return r;
        }
        ObjectNode self = Json.object();
        self.put("hostid", Integer.toUnsignedLong(ctx.hostname().hashCode()));
        self.put("hostname", ctx.hostname());
        self.put("ipc_socket", ctx.config().socketPath());
        self.put("nodename", ctx.nodename());
        self.put("rpc_endpoint", ctx.rpcEndpoint());
        self.put("timestamp", ctx.startMs());
        ObjectNode meta = Json.object();
        meta.set("i" + ctx.instanceId(), self);
        ObjectNode r = Replies.reply("cluster_meta");
        r.set("meta", meta);
        return r;
    }

    /**
     * vineyard answers {@code trimmed:false} and does nothing ("deprecated"); here the free extents'
     * pages go back to the OS (Shmem falls) and the reply says how many bytes were free.
     */
    private void memoryTrim(Peer peer, ObjectNode req) {
        long bytes = ctx.locked(() -> ctx.blobs().trimFree());
        peer.send(Replies.reply("memory_trim_reply").put("trimmed", true).put("trimmed_bytes", bytes));
    }

    private void serverStats(Peer peer, ObjectNode req) {
        ObjectNode r = Replies.reply("server_stats_reply");
        r.set("requests", ctx.stats().toJson());
        r.put("unexpected_errors", ctx.unexpectedErrors());
        ctx.lockedRun(() -> {
            r.put("deferred_free_bytes", ctx.blobs().deferredBytes());
            r.put("deferred_frees", ctx.blobs().deferredFrees());
            r.put("warm_bytes", ctx.blobs().pool().warmBytes());
            r.put("prefaulted_bytes", ctx.blobs().pool().prefaultedBytes());
            r.put("dirty_decay_ms", ctx.config().dirtyDecayMs());
            r.put("decaying_bytes", ctx.blobs().decayingBytes());
            StreamStore.Usage u = ctx.streams().usage();
            ObjectNode st = r.putObject("streams");
            st.put("count", u.streams());
            st.put("bytes", u.bytes());
            st.put("peak_bytes", u.peakBytes());
            st.put("threshold_bytes", u.thresholdBytes());
            ObjectNode sp = r.putObject("spill");
            sp.put("enabled", ctx.spiller().enabled());
            sp.put("spilled_blobs", ctx.blobs().spilledBlobs());
            sp.put("spilled_bytes", ctx.blobs().spilledBytes());
            sp.put("lru_blobs", ctx.blobs().coldBlobs());
            sp.put("loading_blobs", ctx.blobs().loadingBlobs());
        });
        Spiller.Stats s = ctx.spiller().stats();
        ObjectNode sp = (ObjectNode) r.get("spill");
        sp.put("spills", s.spills());
        sp.put("spill_bytes_total", s.spillBytes());
        sp.put("spill_ns_total", s.spillNanos());
        sp.put("reloads", s.reloads());
        sp.put("reload_bytes_total", s.reloadBytes());
        sp.put("reload_ns_total", s.reloadNanos());
        sp.put("failures", s.failures());
        sp.put("last_failure", s.lastFailure());
        peer.send(r);
    }
}
