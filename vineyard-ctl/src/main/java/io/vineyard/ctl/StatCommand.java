package io.vineyard.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code stat}: the daemon's usage, limit, connections and, where it serves {@code server_stats_request}
 * (listed in {@code register_reply.extensions}), bytes of deleted blobs still held by a reader and the
 * request counts by type. With {@code --interval} the statistics are read twice and the difference gives
 * request rates. Against vineyard's vineyardd (or ours with {@code --noextensions}) only
 * {@code instance_status} is asked, and the fields it lacks are left out.
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
        header = "The daemon's usage, limit, deferred bytes, connections and requests.",
        description = {"The daemon's status: one KEY<TAB>VALUE line per field (bytes in plain numbers),",
                "then, where the daemon reports them, one line per request type:",
                "request<TAB>TYPE<TAB>COUNT<TAB>MEAN_US[<TAB>PER_SECOND with --interval].",
                "--json: one JSON object."})
final class StatCommand extends Verb {
    @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "0",
            description = "read the request statistics twice, SECONDS apart, and report rates (default: once)")
    double intervalSeconds;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    int run(Session session) throws Exception {
        if (intervalSeconds < 0 || intervalSeconds > 3600) {
            throw new CtlException(ExitCode.USAGE, "--interval must be between 0 and 3600 seconds, got " + intervalSeconds, null);
        }
        JsonNode status = session.instanceStatus();
        JsonNode before = session.serverStats();
        JsonNode after = before;
        long elapsedNs = 0;
        if (before != null && intervalSeconds > 0) {
            long start = System.nanoTime();
            Thread.sleep((long) (intervalSeconds * 1000));   // the sampling period the user asked for
            after = session.serverStats();
            elapsedNs = System.nanoTime() - start;
        }
        ObjectNode o = Json.object();
        o.put("socket", session.socket());
        o.put("version", session.registerReply().path("version").asText());
        for (String k : List.of("instance_id", "deployment", "memory_usage", "memory_limit", "deferred_requests",
                "ipc_connections", "rpc_connections")) {
            if (status.has(k)) {
                o.set(k, status.get(k));
            }
        }
        o.set("extensions", Json.MAPPER.valueToTree(session.extensions()));
        if (after != null) {
            o.put("deferred_free_bytes", after.path("deferred_free_bytes").asLong());
            o.put("unexpected_errors", after.path("unexpected_errors").asLong());
            o.set("requests", requests(before, after, elapsedNs));
        }
        if (json) {
            printJson(o);
            return ExitCode.OK;
        }
        for (Map.Entry<String, JsonNode> e : o.properties()) {
            if (e.getKey().equals("requests")) {
                continue;
            }
            JsonNode v = e.getValue();
            out().println(e.getKey() + "\t" + (v.isArray() ? join(v) : v.asText()));
        }
        if (o.has("requests")) {
            for (Map.Entry<String, JsonNode> e : o.get("requests").properties()) {
                JsonNode r = e.getValue();
                out().println("request\t" + e.getKey() + "\t" + r.path("count").asLong() + "\t"
                        + String.format(Locale.ROOT, "%.1f", r.path("mean_us").asDouble())
                        + (r.has("per_second") ? String.format(Locale.ROOT, "\t%.1f", r.path("per_second").asDouble()) : ""));
            }
        }
        return ExitCode.OK;
    }

    /** Per type: count and mean daemon time of {@code after}; the rate over the interval when there is one. */
    private static ObjectNode requests(JsonNode before, JsonNode after, long elapsedNs) {
        ObjectNode out = Json.object();
        for (Map.Entry<String, JsonNode> e : after.path("requests").properties()) {
            JsonNode r = e.getValue();
            long count = r.path("count").asLong();
            ObjectNode t = out.putObject(e.getKey());
            t.put("count", count);
            t.put("mean_us", count == 0 ? 0 : r.path("total_ns").asLong() / 1000.0 / count);
            if (elapsedNs > 0) {
                long earlier = before.path("requests").path(e.getKey()).path("count").asLong();
                t.put("per_second", (count - earlier) * 1e9 / elapsedNs);
            }
        }
        return out;
    }

    private static String join(JsonNode array) {
        List<String> parts = new ArrayList<>();
        array.forEach(n -> parts.add(n.asText()));
        return parts.isEmpty() ? "-" : String.join(",", parts);
    }

    /**
     * {@code cluster-info}: the cluster's instances ({@code cluster_meta}; on one machine, this daemon),
     * with the connected instance's usage, limit, connections and, where served, deferred bytes.
     */
    @Command(name = "cluster-info", mixinStandardHelpOptions = true, header = "The cluster's instances.",
            description = {"One line per instance: INSTANCE<TAB>HOSTNAME<TAB>IPC_SOCKET<TAB>RPC_ENDPOINT",
                    "<TAB>MEMORY_USAGE<TAB>MEMORY_LIMIT<TAB>DEFERRED_FREE_BYTES<TAB>IPC_CONNECTIONS<TAB>RPC_CONNECTIONS",
                    "(- where the daemon does not report it: other instances' usage, deferred bytes",
                    "without server_stats). --json: cluster_meta, with these fields added to the instance."})
    static final class ClusterInfo extends Verb {
        private static final List<String> STATUS = List.of("memory_usage", "memory_limit", "deferred_free_bytes",
                "ipc_connections", "rpc_connections");

        @Option(names = "--json", description = "print one JSON object")
        boolean json;

        @Override
        int run(Session session) throws Exception {
            ObjectNode cluster = session.clusterMeta().deepCopy();
            JsonNode status = session.instanceStatus();
            JsonNode stats = session.serverStats();
            JsonNode self = cluster.path("i" + status.path("instance_id").asLong());
            if (self instanceof ObjectNode own) {
                for (String k : STATUS) {
                    JsonNode v = k.equals("deferred_free_bytes") ? (stats == null ? null : stats.get(k)) : status.get(k);
                    if (v != null) {
                        own.set(k, v);
                    }
                }
            }
            if (json) {
                printJson(cluster);
                return ExitCode.OK;
            }
            for (Map.Entry<String, JsonNode> e : cluster.properties()) {
                JsonNode i = e.getValue();
                StringBuilder line = new StringBuilder(e.getKey());
                for (String k : List.of("hostname", "ipc_socket", "rpc_endpoint")) {
                    line.append('\t').append(i.path(k).asText());
                }
                for (String k : STATUS) {
                    line.append('\t').append(i.has(k) ? i.get(k).asText() : "-");
                }
                out().println(line);
            }
            return ExitCode.OK;
        }
    }
}
