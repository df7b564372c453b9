package io.vineyard.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.server.cluster.EtcdSettings;
import io.vineyard.server.meta.MetaKeys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The cluster's metadata read straight from etcd, in vineyard's key layout under
 * {@code <etcd_prefix>/S0000000000000000} (spec 6.2; written by every daemon's {@code EtcdBackend}):
 * <pre>
 *   /instances/i&lt;n&gt;/nodename, /hostname   "node-a"       (JSON strings; gone with the instance's lease)
 *   /names/&lt;escaped name&gt;                   1234           (the object id, unsigned decimal)
 *   /data/o&lt;hex&gt;                             {"typename":"v...","instance_id":2,"nbytes":8000,"global":false,
 *                                             "partitions_-0":"ls&lt;hex&gt;.vineyard::Tensor", ...}
 *   /signatures/i&lt;n&gt;/s&lt;hex&gt;                "o&lt;hex&gt;"        (a global object's members are linked by signature)
 *   /next_instance_id                        3              (ranks are never reused)
 * </pre>
 * Only persisted objects are there (a transient one is known to its daemon alone). Every read is bounded
 * by {@code opTimeoutMs}; a failure is a {@link VineyardException} with {@code ETCD_ERROR}, which the
 * extender turns into its "cannot ask" answers.
 */
final class EtcdMetadata implements DataLocality.Source, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Client client;
    private final KV kv;
    private final String prefix;
    private final long opTimeoutMs;

    private EtcdMetadata(Client client, String prefix, long opTimeoutMs) {
        this.client = client;
        this.kv = client.getKVClient();
        this.prefix = prefix;
        this.opTimeoutMs = opTimeoutMs;
    }

    /**
     * Connects to {@code endpoints} (comma-separated URLs) and checks that etcd answers.
     *
     * @param etcdPrefix the daemons' {@code --etcd_prefix}
     * @throws IllegalArgumentException when an endpoint is not a URL
     * @throws VineyardException        ({@code ETCD_ERROR}) when etcd does not answer in {@code opTimeoutMs}
     */
    static EtcdMetadata connect(String endpoints, String etcdPrefix, long opTimeoutMs) {
        List<String> urls = List.of(endpoints.split(","));
        Client client;
        try {
            client = Client.builder().endpoints(urls.toArray(String[]::new)).connectTimeout(Duration.ofMillis(Math.min(2000, opTimeoutMs)))
                    .retryMaxDuration(Duration.ofMillis(opTimeoutMs)).retryMaxAttempts(2).build();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--etcd_endpoint=" + endpoints + " is not a list of etcd URLs like http://127.0.0.1:2379: "
                    + e.getMessage(), e);
        }
        EtcdMetadata m = new EtcdMetadata(client, new EtcdSettings(urls, etcdPrefix, 0, 0, opTimeoutMs).sessionPrefix(), opTimeoutMs);
        try {
            m.get(MetaKeys.NEXT_INSTANCE_ID, false);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    @Override
    public Map<Long, String> nodeOfInstance() {
        Map<Long, Map<String, String>> fields = new LinkedHashMap<>();
        String base = "/instances/";
        for (KeyValue kvp : get(base, true).getKvs()) {
            String rest = text(kvp.getKey()).substring(prefix.length() + base.length()); // i<n>/<field>
            int slash = rest.indexOf('/');
            if (slash < 2 || rest.charAt(0) != 'i') {
                continue;
            }
            long instance;
            try {
                instance = Long.parseLong(rest, 1, slash, 10);
            } catch (NumberFormatException e) {
                continue; // not an instance key of vineyard's layout
            }
            JsonNode value = parse(kvp.getValue());
            fields.computeIfAbsent(instance, i -> new LinkedHashMap<>()).put(rest.substring(slash + 1), value.isTextual() ? value.textValue() : value.toString());
        }
        Map<Long, String> out = new LinkedHashMap<>();
        fields.forEach((i, f) -> out.put(i, DataLocality.nodeOf(f.get("nodename"), f.get("hostname"))));
        return out;
    }

    @Override
    public void collectChunks(String ref, Map<Long, DataLocality.Chunk> out) {
        long id;
        if (DataLocality.OBJECT_ID.matcher(ref).matches()) {
            id = ObjectIds.parseText(ref);
        } else {
            GetResponse r = get(MetaKeys.name(ref), false);
            if (r.getCount() == 0) {
                throw new VineyardException.ObjectNotExists("no object is named '" + ref + "' in etcd at " + prefix);
            }
            id = Long.parseUnsignedLong(text(r.getKvs().getFirst().getValue()).trim());
        }
        collect(id, out, new HashSet<>(), new long[] {-1});
    }

    /** {@code nextInstance[0]} caches {@code /next_instance_id} for one request (-1: not read yet). */
    private void collect(long id, Map<Long, DataLocality.Chunk> out, Set<Long> seen, long[] nextInstance) {
        if (!seen.add(id) || ObjectIds.isBlob(id)) {
            return; // a blob member of a global object counts with the local object that holds it
        }
        GetResponse r = get(MetaKeys.data(id), false);
        if (r.getCount() == 0) {
            throw new VineyardException.ObjectNotExists("object " + ObjectIds.toText(id) + " is not in etcd at " + prefix);
        }
        JsonNode stored = parse(r.getKvs().getFirst().getValue());
        if (!stored.path("global").asBoolean(false)) {
            out.putIfAbsent(id, new DataLocality.Chunk(stored.path("instance_id").asLong(-1), stored.path("nbytes").asLong(0)));
            return;
        }
        for (Map.Entry<String, JsonNode> f : stored.properties()) {
            String v = f.getValue().isTextual() ? f.getValue().textValue() : "";
            if (!v.startsWith("l")) {
                continue; // a value, not a member link
            }
            int dot = v.indexOf('.');
            String target = dot < 0 ? v.substring(1) : v.substring(1, dot);
            try {
                if (target.startsWith("s")) {
                    Long member = bySignature(ObjectIds.parseText(target), nextInstance);
                    if (member != null) {
                        collect(member, out, seen, nextInstance);
                    }
                } else {
                    collect(ObjectIds.parseText(target), out, seen, nextInstance);
                }
            } catch (NumberFormatException e) {
                // a string value that happens to start with 'l' is not a link
            }
        }
    }

    /** The object a signature stands for: {@code /signatures/i<n>/s<hex>} of any instance ever registered. */
    private Long bySignature(long signature, long[] nextInstance) {
        if (nextInstance[0] < 0) {
            GetResponse r = get(MetaKeys.NEXT_INSTANCE_ID, false);
            nextInstance[0] = r.getCount() == 0 ? 0 : Long.parseLong(text(r.getKvs().getFirst().getValue()).trim());
        }
        List<CompletableFuture<GetResponse>> asks = new ArrayList<>();
        for (long i = 0; i < nextInstance[0]; i++) {
            asks.add(kv.get(key(MetaKeys.signature(i, signature))));
        }
        for (CompletableFuture<GetResponse> ask : asks) {
            GetResponse r = await(ask, MetaKeys.signature(0, signature));
            if (r.getCount() > 0) {
                return ObjectIds.parseText(parse(r.getKvs().getFirst().getValue()).asText());
            }
        }
        return null;
    }

    private GetResponse get(String key, boolean isPrefix) {
        return await(isPrefix ? kv.get(key(key), GetOption.builder().isPrefix(true).build()) : kv.get(key(key)), key);
    }

    private GetResponse await(CompletableFuture<GetResponse> f, String key) {
        try {
            return f.get(opTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VineyardException(Status.ETCD_ERROR, "interrupted while reading " + prefix + key + " from etcd", e);
        } catch (ExecutionException | TimeoutException e) {
            f.cancel(true);
            throw new VineyardException(Status.ETCD_ERROR, "reading " + prefix + key + " from etcd failed: "
                    + (e instanceof TimeoutException ? "no answer in " + opTimeoutMs + " ms" : String.valueOf(e.getCause())), e);
        }
    }

    private ByteSequence key(String key) {
        return ByteSequence.from(prefix + key, StandardCharsets.UTF_8);
    }

    private static String text(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    private static JsonNode parse(ByteSequence b) {
        try {
            return JSON.readTree(b.getBytes());
        } catch (IOException e) {
            return JSON.getNodeFactory().textNode(text(b)); // a value that is not JSON, kept as text
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
