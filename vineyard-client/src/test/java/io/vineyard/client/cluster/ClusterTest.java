package io.vineyard.client.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static io.vineyard.client.cluster.Cluster.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
                        + ObjectIds.signatureText(meta.signature())));

                ca.delete(id);
                assertTrue(eventually(Duration.ofSeconds(5), () -> !cb.exists(id)), "a delete reaches the other instance");
                assertFalse(cluster.keys().containsKey("/data/" + id), "and leaves etcd");
                assertFalse(cluster.keys().containsKey("/names/shared-tensor"));
            }
        }
    }
}
