package io.vineyard.client.cluster;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.vineyard.client.DaemonProcess;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A test's vineyard cluster: one real etcd and daemons on it (their own pools and sockets, one etcd
 * prefix per test), all stopped by PID at the end.
 */
final class Cluster implements AutoCloseable {
    final EtcdProcess etcd;
    final String prefix = "vt-" + UUID.randomUUID().toString().substring(0, 8);
    final List<DaemonProcess> daemons = new ArrayList<>();

    /** A cluster on a fresh etcd started with its defaults and {@code etcdFlags}. */
    Cluster(String... etcdFlags) throws IOException {
        this.etcd = EtcdProcess.start(etcdFlags);
    }

    /** The daemon's flags for this cluster (short lease, so a dead instance's keys go quickly). */
    List<String> flags(String... extra) {
        List<String> f = new ArrayList<>(List.of("--meta=etcd", "--etcd_endpoint=" + etcd.endpoint(),
                "--etcd_prefix=" + prefix, "--etcd_lease_ttl=3", "--meta_timeout=20", "--size=512Mi"));
        f.addAll(List.of(extra));
        return f;
    }

    DaemonProcess startDaemon(String... extra) throws IOException {
        DaemonProcess d = DaemonProcess.start(flags(extra).toArray(String[]::new));
        daemons.add(d);
        return d;
    }

    /** Every key under this cluster's session prefix (relative to it) -> its value, read with jetcd. */
    Map<String, String> keys() throws Exception {
        String p = prefix + "/S0000000000000000";
        try (Client c = Client.builder().endpoints(etcd.endpoint()).build()) {
            List<KeyValue> kvs = c.getKVClient().get(ByteSequence.from(p + "/", StandardCharsets.UTF_8),
                    GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getKvs();
            Map<String, String> out = new LinkedHashMap<>();
            for (KeyValue kv : kvs) {
                out.put(kv.getKey().toString(StandardCharsets.UTF_8).substring(p.length()), kv.getValue().toString(StandardCharsets.UTF_8));
            }
            return out;
        }
    }

    /** Waits (at most {@code timeout}) until {@code condition} holds; false when it never did. */
    static boolean eventually(Duration timeout, BooleanSupplier condition) {
        return DaemonProcess.eventually(timeout, condition);
    }

    @Override
    public void close() throws IOException {
        for (DaemonProcess d : daemons) {
            d.close();
        }
        etcd.close();
    }
}
