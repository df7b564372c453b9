package io.vineyard.client.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.GlobalTensor;
import io.vineyard.client.types.Scalar;
import io.vineyard.client.types.Tensor;
import io.vineyard.client.types.Tuple;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.vineyard.client.cluster.Cluster.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Daemons sharing metadata through a real etcd (spec 6, scenarios F of users-and-scenarios.md). */
class ClusterTest {
    @BeforeAll
    static void etcdInstalled() {
        assumeTrue(EtcdProcess.available(), "etcd-server is not installed (bin/test installs it)");
    }

    @Test
    void persistedObjectIsVisibleFromTheOtherInstanceWithVineyardsKeyLayout() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon();
            DaemonProcess b = cluster.startDaemon();
            try (IpcClient ca = IpcClient.connect(a.socket()); IpcClient cb = IpcClient.connect(b.socket())) {
                assertNotEquals(ca.instanceId(), cb.instanceId(), "instance ids come from etcd and differ");
                ObjectId id = ca.putNamed(Tensor.of(new double[] {1, 2, 3, 4}, 2, 2), "shared-tensor");

                ObjectId seen = cb.waitName("shared-tensor", Duration.ofSeconds(5));
                assertEquals(id, seen, "the name resolves on the other instance");
                ObjectMeta meta = cb.getMeta(id);
                assertEquals("vineyard::Tensor<double>", meta.typename());
                assertEquals(ca.instanceId(), meta.instanceId(), "the metadata says where the object lives");

                ObjectNode instances = cb.clusterMeta();
                assertTrue(instances.has("i" + ca.instanceId()) && instances.has("i" + cb.instanceId()), instances.toString());
                assertEquals("127.0.0.1:" + a.rpcPort(), instances.path("i" + ca.instanceId()).path("rpc_endpoint").asText());

                Map<String, String> keys = cluster.keys();
                JsonNode data = Json.MAPPER.readTree(keys.get("/data/" + id));
                assertEquals("vvineyard::Tensor<double>", data.path("typename").asText(), "strings are stored as v...");
                assertFalse(data.path("transient").asBoolean(true));
                assertTrue(data.path("buffer_").asText().matches("lo[0-9a-f]{16}\\.vineyard::Blob@" + ca.instanceId()),
                        "a blob member is a link with its instance: " + data.path("buffer_"));
                assertEquals(Long.toUnsignedString(id.value()), keys.get("/names/shared-tensor"));
                assertEquals("\"vshared-tensor\"", keys.get("/data/" + id + "/__name"));
                assertEquals("\"127.0.0.1:" + a.rpcPort() + "\"", keys.get("/instances/i" + ca.instanceId() + "/rpc_endpoint"));
                assertEquals(Long.toString(Math.max(ca.instanceId(), cb.instanceId()) + 1), keys.get("/next_instance_id"));
                assertEquals("\"" + id + "\"", keys.get("/signatures/i" + ca.instanceId() + "/"
                        + ObjectIds.signatureText(meta.signature().longValue())));

                // sync_remote: the other instance answers with what etcd had when asked, not what its watch delivered so far
                for (int i = 0; i < 20; i++) {
                    ObjectId next = ca.put(Tensor.of(new long[] {i}, 1), io.vineyard.client.PutOptions.persistent());
                    assertEquals(ca.instanceId(), cb.getMeta(next, true).instanceId(), "persisted object " + i + " is found at once");
                    ca.delete(next);
                }

                ca.delete(id);
                assertTrue(eventually(Duration.ofSeconds(5), () -> !cb.exists(id)), "a delete reaches the other instance");
                assertFalse(cluster.keys().containsKey("/data/" + id), "and leaves etcd");
                assertFalse(cluster.keys().containsKey("/names/shared-tensor"));
            }
        }
    }

    @Test
    void aGlobalObjectMadeRightAfterTheOtherInstancePersistedItsChunkFindsTheChunk() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon();
            DaemonProcess b = cluster.startDaemon();
            try (IpcClient ca = IpcClient.connect(a.socket()); IpcClient cb = IpcClient.connect(b.socket())) {
                // no wait between b's persist and a's put: a's replica may not have the chunk yet, and the
                // daemon catches up with etcd before it calls the member missing
                for (int round = 0; round < 20; round++) {
                    ObjectId mine = ca.put(Tensor.of(new double[] {round}, 1), PutOptions.persistent());
                    ObjectId theirs = cb.put(Tensor.of(new double[] {-round}, 1), PutOptions.persistent());
                    ObjectId global = ca.put(new GlobalTensor(new long[] {2}, new long[] {1}, List.of(mine, theirs)),
                            PutOptions.persistent());
                    GlobalTensor seen = ca.get(global, GlobalTensor.class);
                    assertEquals(List.of(mine, theirs), seen.partitions(), "round " + round);
                    assertEquals(List.of(mine), seen.localPartitions(ca));
                }
                // a member that exists nowhere is still refused, and nothing is left of the put
                long before = ca.list("*", 1000).size();
                ObjectId nowhere = ObjectId.parse("o00badc0ffee00001");   // an object id (top bit clear) no instance made
                VineyardException e = assertThrows(VineyardException.class, () -> ca.put(
                        new GlobalTensor(new long[] {1}, new long[] {1}, List.of(nowhere)), PutOptions.persistent()));
                assertEquals(Status.OBJECT_NOT_EXISTS, e.status(), e.getMessage());
                assertEquals(before, ca.list("*", 1000).size());
            }
        }
    }

    @Test
    void concurrentPersistsShareTransactionsAndARefusedOneFailsAlone() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon("--metrics_port=0");
            DaemonProcess b = cluster.startDaemon();
            int threads = 16;
            int each = 25;
            ObjectId[][] ids = new ObjectId[threads][each];
            List<Thread> workers = new ArrayList<>();
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                workers.add(Thread.ofPlatform().start(() -> {
                    try (IpcClient c = IpcClient.connect(a.socket())) {
                        go.await();
                        for (int i = 0; i < each; i++) {
                            ids[me][i] = c.putNamed(Tensor.of(new long[] {me, i}), "gc-" + me + "-" + i);
                        }
                    } catch (Throwable e) {
                        failed.compareAndSet(null, e);
                    }
                }));
            }
            // among them, a persist etcd refuses (a value over its 1.5 MiB request limit): it fails alone
            VineyardException tooLarge;
            try (IpcClient c = IpcClient.connect(a.socket())) {
                long before = c.list("vineyard::Scalar*", 100_000).size();
                go.countDown();
                tooLarge = assertThrows(VineyardException.class,
                        () -> c.put(Scalar.of("x".repeat(2 << 20)), PutOptions.persistent()));
                for (Thread w : workers) {
                    w.join();
                }
                assertEquals(null, failed.get(), "every other persist succeeded");
                assertEquals(before, c.list("vineyard::Scalar*", 100_000).size(), "the refused one left nothing behind");
            }
            assertEquals(Status.ETCD_ERROR, tooLarge.status(), tooLarge.getMessage());
            try (IpcClient cb = IpcClient.connect(b.socket())) {
                for (int t = 0; t < threads; t++) {
                    for (int i = 0; i < each; i++) {
                        assertEquals(ids[t][i], cb.waitName("gc-" + t + "-" + i, Duration.ofSeconds(10)));
                    }
                }
            }
            Map<String, Double> m = io.vineyard.client.MetricsEndpointTest.scrape(io.vineyard.client.MetricsEndpointTest.metricsUrl(a));
            double changes = m.get("vineyard_etcd_group_changes_total");
            double txns = m.get("vineyard_etcd_group_transactions_total");
            System.out.printf("group commit: %.0f changes in %.0f etcd transactions%n", changes, txns);
            assertTrue(changes >= threads * each, "every persist went through the group commit: " + changes);
            assertTrue(txns < changes, "concurrent persists shared transactions: " + txns + " for " + changes + " changes");
        }
    }

    @Test
    void aDeepDeleteOnOneInstanceDeletesTheMembersTheOtherInstanceOwns() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon();
            DaemonProcess b = cluster.startDaemon();
            try (IpcClient ca = IpcClient.connect(a.socket()); IpcClient cb = IpcClient.connect(b.socket())) {
                for (int round = 0; round < 5; round++) {
                    // b owns two levels (tuples of tensors), a the tuple over them
                    List<Object> parts = new ArrayList<>();
                    List<Object> inner = new ArrayList<>();
                    for (int t = 0; t < 3; t++) {
                        List<Object> tensors = new ArrayList<>();
                        for (int i = 0; i < 4; i++) {
                            tensors.add(cb.put(Tensor.of(new long[] {round, t, i}), PutOptions.persistent()));
                        }
                        parts.addAll(tensors);
                        inner.add(cb.put(new Tuple(tensors), PutOptions.persistent()));
                    }
                    parts.addAll(inner);
                    ObjectId tuple = ca.put(new Tuple(inner), PutOptions.persistent());
                    assertTrue(eventually(Duration.ofSeconds(10), () -> cb.exists(tuple)));
                    ca.delete(tuple);   // deep: the members b owns go too, on b as well
                    assertTrue(eventually(Duration.ofSeconds(10), () -> parts.stream().noneMatch(p -> cb.exists((ObjectId) p))),
                            "round " + round + ": b deleted its members of the tuple a deleted");
                }
                assertEquals(0, cb.list("vineyard::Tensor*", 1000).size(), "no tensor is left on b");
                assertEquals(0, cb.list("vineyard::Tuple*", 1000).size(), "no tuple is left on b");
            }
        }
    }

    @Test
    void localWorkGoesOnWhileEtcdIsDownAndClusterWorkResumesAfter() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon("--metrics_port=0");
            DaemonProcess b = cluster.startDaemon();
            try (IpcClient ca = IpcClient.connect(a.socket()); IpcClient cb = IpcClient.connect(b.socket())) {
                cluster.etcd.stop();
                long worstNs = 0;
                long until = System.nanoTime() + Duration.ofSeconds(30).toNanos(); // the issue's 30 s, ten leases long
                int rounds = 0;
                while (System.nanoTime() < until) {
                    long t0 = System.nanoTime();
                    ObjectId id = ca.put(Tensor.of(new long[] {rounds}));
                    try (Tensor t = ca.get(id, Tensor.class)) {
                        assertEquals(rounds, t.getLong(0), "a local get while etcd is down");
                    }
                    ca.delete(id);
                    worstNs = Math.max(worstNs, System.nanoTime() - t0);
                    rounds++;
                }
                System.out.printf("etcd down: %d local put/get/delete rounds, slowest %.1f ms%n", rounds, worstNs / 1e6);

                ObjectId kept = ca.put(Tensor.of(new long[] {42}));
                long t0 = System.nanoTime();
                VineyardException e = assertThrows(VineyardException.class, () -> ca.persist(kept));
                System.out.printf("persist with etcd down failed in %.0f ms: %s%n", (System.nanoTime() - t0) / 1e6, e.getMessage());
                assertEquals(Status.ETCD_ERROR, e.status(), "a cluster operation fails with a typed error");
                assertTrue(ca.getMeta(kept).isTransient(), "the failed persist changed nothing");
                java.net.URI metrics = io.vineyard.client.MetricsEndpointTest.metricsUrl(a);
                assertTrue(io.vineyard.client.MetricsEndpointTest.scrape(metrics).get("vineyard_etcd_commit_errors_total") >= 1,
                        "the refused commit is counted");

                cluster.etcd.restart(false);
                assertTrue(eventually(Duration.ofSeconds(15), () -> {
                    ca.persist(kept);
                    return true;
                }), "persist works again once etcd is back, without restarting anything");
                ca.putName(kept, "after-the-outage");
                assertEquals(kept, cb.waitName("after-the-outage", Duration.ofSeconds(15)),
                        "the other instance's replica resumed too");
                // an outage longer than the lease drops the instances' keys: each registers again at its
                // next heartbeat that reaches etcd
                long back = System.nanoTime();
                assertTrue(eventually(Duration.ofSeconds(30), () -> {
                    try {
                        return io.vineyard.client.MetricsEndpointTest.scrape(metrics).get("vineyard_cluster_instances") == 2.0;
                    } catch (Exception notYet) {
                        return false;
                    }
                }), "both instances are registered again");
                System.out.printf("both instances registered again %.1f s after the name resolved%n", (System.nanoTime() - back) / 1e9);
                Map<String, Double> scrape = io.vineyard.client.MetricsEndpointTest.scrape(metrics);
                assertTrue(scrape.get("vineyard_etcd_commits_total") >= 2, "the persist and the name went to etcd");
                assertTrue(scrape.get("vineyard_etcd_applied_revision") > 0);
            }
        }
    }

    @Test
    void etcdRestartedEmptyGetsEveryInstanceAndItsObjectsBack() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon("--metrics_port=0");
            DaemonProcess b = cluster.startDaemon();
            try (IpcClient ca = IpcClient.connect(a.socket()); IpcClient cb = IpcClient.connect(b.socket())) {
                ObjectId fromA = ca.putNamed(Tensor.of(new long[] {1, 2}), "from-a");
                ObjectId fromB = cb.putNamed(Tensor.of(new long[] {3, 4}), "from-b");
                assertEquals(fromA, cb.waitName("from-a", Duration.ofSeconds(5)));

                cluster.etcd.restart(true); // a new data directory and cluster token: nothing of the old etcd
                long t0 = System.nanoTime();
                assertTrue(eventually(Duration.ofSeconds(30), () -> {
                    try {
                        Map<String, String> keys = cluster.keys();
                        return keys.containsKey("/names/from-a") && keys.containsKey("/names/from-b")
                                && keys.containsKey("/instances/i" + ca.instanceId() + "/rpc_endpoint")
                                && keys.containsKey("/instances/i" + cb.instanceId() + "/rpc_endpoint");
                    } catch (Exception e) {
                        return false;
                    }
                }), "both instances registered again and republished their names within 30 s");
                System.out.printf("re-registered and republished in %.1f s%n", (System.nanoTime() - t0) / 1e9);
                assertTrue(eventually(Duration.ofSeconds(10), () -> fromB.equals(ca.getName("from-b"))
                        && fromA.equals(cb.getName("from-a"))), "names resolve again across instances");
                assertEquals("vineyard::Tensor<int64>", cb.getMeta(fromA).typename());
                assertTrue(io.vineyard.client.MetricsEndpointTest.scrape(io.vineyard.client.MetricsEndpointTest.metricsUrl(a))
                        .get("vineyard_etcd_recoveries_total") >= 1, "a noticed that etcd lost its registration");
                assertTrue(Long.parseLong(cluster.keys().get("/next_instance_id")) > Math.max(ca.instanceId(), cb.instanceId()),
                        "instance ids are never handed out twice, even after etcd lost the counter");
            }
        }
    }

    @Test
    void sigtermOfOneOfThreeLeavesTheOthersServingAndItsMetadataReadable() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon();
            DaemonProcess b = cluster.startDaemon();
            DaemonProcess c = cluster.startDaemon();
            ObjectId[] ids = new ObjectId[10];
            long instanceA;
            try (IpcClient ca = IpcClient.connect(a.socket())) {
                instanceA = ca.instanceId();
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = ca.putNamed(Tensor.of(new long[] {i}), "a-object-" + i);
                }
            }
            try (IpcClient cb = IpcClient.connect(b.socket()); IpcClient cc = IpcClient.connect(c.socket())) {
                assertEquals(ids[9], cb.waitName("a-object-9", Duration.ofSeconds(5)));
                a.close();
                assertEquals(0, a.exitValue(), "SIGTERM stops the daemon cleanly");
                assertTrue(eventually(Duration.ofSeconds(5), () -> !cb.clusterMeta().has("i" + instanceA)),
                        "the stopped instance leaves cluster_meta (its lease was revoked)");
                for (int i = 0; i < ids.length; i++) {
                    assertEquals(ids[i], cb.getName("a-object-" + i), "its names still resolve");
                    assertEquals(instanceA, cb.getMeta(ids[i]).instanceId(), "its metadata stays readable");
                }
                VineyardException gone = assertThrows(VineyardException.class, () -> cb.migrate(ids[0]));
                assertEquals(Status.OBJECT_NOT_EXISTS, gone.status());
                assertTrue(gone.getMessage().contains("gone"), gone.getMessage());

                ObjectId fresh = cb.putNamed(Tensor.of(new long[] {7}), "after-a-stopped");
                assertEquals(fresh, cc.waitName("after-a-stopped", Duration.ofSeconds(5)), "new puts go on");
            }
        }
    }

    @Test
    void persistingAnObjectWithTenThousandMembersSplitsTheTransactions() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon();
            DaemonProcess b = cluster.startDaemon();
            try (IpcClient ca = IpcClient.connect(a.socket()); IpcClient cb = IpcClient.connect(b.socket())) {
                List<Object> elements = new ArrayList<>();
                for (int i = 0; i < 10_000; i++) {
                    elements.add(Scalar.of((long) i));
                }
                long t0 = System.nanoTime();
                ObjectId id = ca.putNamed(new Tuple(elements), "ten-thousand");
                System.out.printf("persisted 10,001 objects in %.0f ms%n", (System.nanoTime() - t0) / 1e6);
                assertEquals(id, cb.waitName("ten-thousand", Duration.ofSeconds(10)));
                ObjectMeta meta = cb.getMeta(id);
                assertEquals(10_000, meta.getLong("__elements_-size"));
                assertEquals(9_999, meta.member("__elements_-9999").getLong("value_"),
                        "the last member arrived with the parent");
                long dataKeys = cluster.keys().keySet().stream().filter(k -> k.matches("/data/o[0-9a-f]{16}")).count();
                assertEquals(10_001, dataKeys, "one data key per object, over etcd's 128-operation limit");
            }
        }
    }

    @Test
    void anUnreachableEtcdFailsStartUpWithinMetaTimeout() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        for (String endpoint : List.of("http://no-such-host.invalid:2379", "http://127.0.0.1:" + closedPort)) {
            Path dir = Files.createTempDirectory("vineyard-test-");
            ProcessBuilder pb = new ProcessBuilder(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), "io.vineyard.server.Vineyardd",
                    "--socket=" + dir.resolve("s.sock"), "--rpc_socket_port=0", "--size=64Mi", "--meta=etcd",
                    "--etcd_endpoint=" + endpoint, "--meta_timeout=2").redirectErrorStream(true);
            long t0 = System.nanoTime();
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "it exits rather than hangs");
            System.out.printf("%s: exit %d after %.1f s%n", endpoint, p.exitValue(), (System.nanoTime() - t0) / 1e9);
            assertEquals(1, p.exitValue(), out);
            assertTrue(out.contains("did not answer within --meta_timeout=2 s"), out);
            assertFalse(out.contains("vineyardd ready"), out);
            assertFalse(Files.exists(dir.resolve("s.sock")), "no socket was left behind");
        }
    }
}
