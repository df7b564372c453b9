package io.vineyard.client.cluster;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A daemon starting against a prefix that holds 1,000,000 objects (v6d#14/#107: vineyardd hangs on
 * the 4 MB gRPC limit) is ready within 60 s ({@link DaemonProcess} gives a daemon 60 s to print its
 * ready line) and answers for any of them.
 */
@Tag("slow")
class MillionKeysTest {
    private static final int OBJECTS = 1_000_000;
    private static final long DEAD_INSTANCE = 900;

    @BeforeAll
    static void etcdInstalled() {
        assumeTrue(EtcdProcess.available(), "etcd-server is not installed (bin/test installs it)");
    }

    /** vineyard's stored form of a Scalar published by an instance that is gone. */
    private static String scalar(int i) {
        return "{\"typename\":\"vvineyard::Scalar<int64>\",\"value_\":" + i + ",\"type_\":\"vint64\",\"signature\":"
                + (1_000_000_000L + i) + ",\"instance_id\":" + DEAD_INSTANCE + ",\"transient\":false,\"nbytes\":0}";
    }

    private static long idOf(int i) {
        return 0x0100_0000_0000_0000L + i;
    }

    @Test
    void aDaemonStartsAgainstAMillionKeysAndServesThem() throws Exception {
        // the filler writes 1,000 keys per transaction: its own etcd allows that; the daemon keeps to 127
        try (Cluster cluster = new Cluster("--max-txn-ops", "1000")) {
            String prefix = cluster.prefix + "/S0000000000000000/data/";
            long t0 = System.nanoTime();
            try (Client c = Client.builder().endpoints(cluster.etcd.endpoint()).build()) {
                KV kv = c.getKVClient();
                Semaphore inFlight = new Semaphore(32);
                List<CompletableFuture<?>> all = new ArrayList<>();
                for (int i = 0; i < OBJECTS; i += 1000) {
                    List<Op> ops = new ArrayList<>(1000);
                    for (int j = i; j < i + 1000; j++) {
                        ops.add(Op.put(ByteSequence.from(prefix + new ObjectId(idOf(j)), StandardCharsets.UTF_8),
                                ByteSequence.from(scalar(j), StandardCharsets.UTF_8), PutOption.DEFAULT));
                    }
                    inFlight.acquire();
                    all.add(kv.txn().Then(ops.toArray(Op[]::new)).commit().whenComplete((r, e) -> inFlight.release()));
                }
                CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
            }
            System.out.printf("wrote %,d objects to etcd in %.1f s%n", OBJECTS, (System.nanoTime() - t0) / 1e9);

            long t1 = System.nanoTime();
            DaemonProcess d = DaemonProcess.startWithHeap("3g", cluster.flags().toArray(String[]::new));
            cluster.daemons.add(d);
            System.out.printf("daemon ready against %,d objects in %.1f s%n", OBJECTS, (System.nanoTime() - t1) / 1e9);
            try (IpcClient client = IpcClient.connect(d.socket())) {
                for (int i : new int[] {0, 123_457, OBJECTS - 1}) {
                    ObjectMeta m = client.getMeta(new ObjectId(idOf(i)));
                    assertEquals("vineyard::Scalar<int64>", m.typename());
                    assertEquals(i, m.getLong("value_"), "decoded from vineyard's stored form");
                    assertEquals(DEAD_INSTANCE, m.instanceId());
                }
                ObjectId own = client.putNamed(Tensor.of(new long[] {1}), "after-a-million");
                assertEquals(own, client.waitName("after-a-million", Duration.ofSeconds(5)), "and goes on serving");
            }
        }
    }
}
