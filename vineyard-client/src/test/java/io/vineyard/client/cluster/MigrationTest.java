package io.vineyard.client.cluster;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.VineyardObject;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.GlobalDataFrame;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.vineyard.client.cluster.Cluster.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Objects moved between daemons ({@code migrate_object}, spec 6.5) and global objects across them (6.4). */
class MigrationTest {
    @BeforeAll
    static void etcdInstalled() {
        assumeTrue(EtcdProcess.available(), "etcd-server is not installed (bin/test installs it)");
    }

    private static double[] values(int n, double seed) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = seed + i * 0.5;
        }
        return v;
    }

    @Test
    void migrateCopiesOnceAndKeepsTheSignature() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon();
            DaemonProcess b = cluster.startDaemon();
            try (IpcClient ca = IpcClient.connect(a.socket()); IpcClient cb = IpcClient.connect(b.socket())) {
                double[] v = values(1_000_000, 3);
                ObjectId id = ca.putNamed(Tensor.of(v, 1000, 1000), "to-move");
                assertEquals(id, ca.migrate(id), "a local object migrates to itself");
                assertEquals(id, cb.waitName("to-move", Duration.ofSeconds(5)));
                VineyardException remote = assertThrows(VineyardException.class, () -> cb.get(id, Tensor.class));
                assertTrue(remote.getMessage().contains("fetchObject"), "a get of a remote object says what to do: "
                        + remote.getMessage());

                ObjectId copy = cb.migrate(id);
                assertNotEquals(id, copy);
                ObjectMeta copyMeta = cb.getMeta(copy);
                assertEquals(cb.instanceId(), copyMeta.instanceId(), "the copy lives on the instance that asked");
                assertEquals(ca.getMeta(id).signature(), copyMeta.signature(), "with the original's signature");
                assertTrue(!copyMeta.isTransient(), "and is persisted");
                try (Tensor t = cb.get(copy, Tensor.class)) {
                    assertEquals(1_000_000, t.elementCount());
                    for (int i = 0; i < v.length; i += 9973) {
                        assertEquals(v[i], t.getDouble(i));
                    }
                    assertEquals(v[v.length - 1], t.getDouble(v.length - 1));
                }
                assertEquals(copy, cb.migrate(id), "a second migrate finds the copy and transfers nothing");
                assertEquals(copy, cb.fetchObject(id).id(), "get with fetch uses it too");

                ca.delete(id);
                assertTrue(eventually(Duration.ofSeconds(5), () -> !cb.exists(id)), "deleting the original is seen everywhere");
                assertTrue(cb.exists(copy) && ca.exists(copy), "the copy stays");
                cb.delete(copy);
                assertTrue(eventually(Duration.ofSeconds(5), () -> !ca.exists(copy)));
            }
        }
    }

    @Test
    void concurrentFetchesOfOneObjectTransferItOnce() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon();
            DaemonProcess b = cluster.startDaemon();
            ObjectId first;
            ObjectId second;
            try (IpcClient ca = IpcClient.connect(a.socket())) {
                first = ca.putNamed(Tensor.of(values(2_000_000, 1)), "fetch-1");
                second = ca.putNamed(Tensor.of(values(2_000_000, 2)), "fetch-2");
            }
            long before = a.requestCounts().getOrDefault("get_remote_buffers_request", 0L);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<List<ObjectId>>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    List<ObjectId> got = new ArrayList<>();
                    try (IpcClient c = IpcClient.connect(b.socket())) {
                        c.waitName("fetch-2", Duration.ofSeconds(5));
                        for (int i = 0; i < 5; i++) {
                            for (ObjectId id : List.of(first, second)) {
                                try (VineyardObject o = c.fetchObject(id); Tensor t2 = c.get(o.id(), Tensor.class)) {
                                    assertEquals(id.equals(first) ? 1.0 : 2.0, t2.getDouble(0));
                                    got.add(o.id());
                                }
                            }
                        }
                    }
                    return got;
                }));
            }
            Set<ObjectId> copies = new HashSet<>();
            for (Future<List<ObjectId>> f : results) {
                copies.addAll(f.get());
            }
            pool.shutdown();
            assertEquals(2, copies.size(), "forty fetches, one local copy per object: " + copies);
            long transfers = a.requestCounts().getOrDefault("get_remote_buffers_request", 0L) - before;
            assertEquals(2, transfers, "each object crossed the wire once");
        }
    }

    @Test
    void aSourceKilledMidTransferLeavesNothingOnTheDestination() throws Exception {
        try (Cluster cluster = new Cluster()) {
            DaemonProcess a = cluster.startDaemon("--size=2Gi");
            DaemonProcess b = cluster.startDaemon("--size=2Gi");
            ObjectId big;
            try (IpcClient ca = IpcClient.connect(a.socket())) {
                big = ca.putNamed(Tensor.of(new double[128 << 20]), "big"); // 1 GiB
            }
            try (IpcClient cb = IpcClient.connect(b.socket())) {
                cb.waitName("big", Duration.ofSeconds(5));
                long baseline = b.memoryUsage();
                ExecutorService one = Executors.newSingleThreadExecutor();
                Future<ObjectId> migration = one.submit(() -> cb.migrate(big));
                assertTrue(eventually(Duration.ofSeconds(20), () -> b.memoryUsage() > baseline),
                        "the destination made the blobs to receive into");
                ProcessHandle.of(a.pid()).ifPresent(ProcessHandle::destroyForcibly); // kill -9 of the source
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        migration::get, "the migration fails");
                assertTrue(e.getCause() instanceof VineyardException, e.getCause().toString());
                assertEquals(Status.CONNECTION_ERROR, ((VineyardException) e.getCause()).status(), e.getCause().getMessage());
                one.shutdown();
                assertTrue(eventually(Duration.ofSeconds(5), () -> b.memoryUsage() == baseline),
                        "the partial blobs are freed: " + b.memoryUsage() + " vs " + baseline);
                assertEquals(Status.CONNECTION_ERROR, assertThrows(VineyardException.class, () -> cb.migrate(big)).status(),
                        "while its lease lasts, the dead source is unreachable");
                assertTrue(eventually(Duration.ofSeconds(10), () -> {
                    try {
                        cb.migrate(big);
                        return false;
                    } catch (VineyardException gone) {
                        return gone.status() == Status.OBJECT_NOT_EXISTS;
                    }
                }), "once its lease expired (3 s here), the source is reported gone");
            }
        }
    }

    @Test
    void aGlobalDataFrameOfChunksOnThreeInstancesIsReadableFromEach() throws Exception {
        try (Cluster cluster = new Cluster()) {
            List<DaemonProcess> ds = List.of(cluster.startDaemon(), cluster.startDaemon(), cluster.startDaemon());
            List<ObjectId> chunks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                try (IpcClient c = IpcClient.connect(ds.get(i).socket())) {
                    DataFrame df = new DataFrame(List.of("x", "y"),
                            List.of(Tensor.of(new long[] {i, i + 10L}), Tensor.of(new double[] {i * 0.5, i * 1.5})), null);
                    chunks.add(c.put(df, io.vineyard.client.PutOptions.persistent()));
                }
            }
            ObjectId global;
            try (IpcClient c0 = IpcClient.connect(ds.get(0).socket())) {
                for (ObjectId chunk : chunks) {
                    assertTrue(eventually(Duration.ofSeconds(5), () -> c0.exists(chunk)), "every chunk's metadata reached i0");
                }
                global = c0.putNamed(new GlobalDataFrame(3, 1, chunks), "global-frame");
            }
            for (int i = 0; i < 3; i++) {
                try (IpcClient c = IpcClient.connect(ds.get(i).socket())) {
                    assertEquals(global, c.waitName("global-frame", Duration.ofSeconds(5)));
                    GlobalDataFrame g = c.get(global, GlobalDataFrame.class);
                    assertEquals(chunks, g.partitions());
                    List<ObjectId> local = new ArrayList<>();
                    for (ObjectId chunk : g.partitions()) {
                        ObjectMeta m = c.getMeta(chunk); // every chunk's metadata, wherever it lives
                        assertEquals("vineyard::DataFrame", m.typename());
                        if (m.instanceId() == c.instanceId()) {
                            local.add(chunk);
                        }
                    }
                    assertEquals(List.of(chunks.get(i)), local, "one local chunk on each instance");
                    assertEquals(local, g.localPartitions(c));
                    try (DataFrame df = c.get(local.get(0), DataFrame.class)) {
                        assertEquals(i + 10L, df.columns().get(0).getLong(1));
                    }
                }
            }
        }
    }
}
