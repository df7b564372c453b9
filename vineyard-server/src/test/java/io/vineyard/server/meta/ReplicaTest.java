package io.vineyard.server.meta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.server.memory.SharedMemoryPool;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobLinks;
import io.vineyard.server.store.BlobStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The metadata store's side of the etcd backend, without etcd: the keys and values it publishes
 * (vineyard's stored form, spec 2.3 and 6.2) and the replica it builds from keys written by any
 * instance, vineyard's included.
 */
class ReplicaTest {
    private static final long SELF = 2;
    private final SharedMemoryPool pool = SharedMemoryPool.create(4 << 20, false);
    private final ObjectIds ids = new ObjectIds(SELF, System::currentTimeMillis);
    private final BlobStore blobs = new BlobStore(pool, ids);
    private final MetaStore meta = new MetaStore(blobs, ids, SELF, System::currentTimeMillis);
    private final BlobLinks writer = new BlobLinks(1);

    @AfterEach
    void tearDown() {
        blobs.disconnect(writer);
        pool.close();
    }

    private long tensorWithBlob() {
        Blob b = blobs.create(48, writer);
        blobs.seal(b.id(), writer);
        blobs.releaseIfHeld(b.id(), writer);
        ObjectNode content = Json.object();
        content.put("typename", "vineyard::Tensor<double>");
        content.put("shape_", "[6]");
        content.put("value_type_", "double");
        content.put("partition_index_", "[]");
        ObjectNode buffer = content.putObject("buffer_");
        buffer.put("id", ObjectIds.toText(b.id()));
        buffer.put("typename", "vineyard::Blob");
        buffer.put("length", 48);
        return meta.create(content).id();
    }

    private static Map<String, String> asMap(List<MetaOp> ops) {
        Map<String, String> out = new LinkedHashMap<>();
        ops.forEach(op -> out.put(op.key(), op.value()));
        return out;
    }

    @Test
    void publishedKeysAreVineyardsStoredForm() throws Exception {
        long id = tensorWithBlob();
        long blobId = ObjectIds.parseText(meta.get(id).get("buffer_").get("id").textValue());
        Map<String, String> keys = asMap(meta.publishOps(id));
        JsonNode data = Json.MAPPER.readTree(keys.get("/data/" + ObjectIds.toText(id)));
        assertEquals("vvineyard::Tensor<double>", data.get("typename").asText());
        assertEquals("v[6]", data.get("shape_").asText(), "strings carry vineyard's 'v' tag");
        assertEquals("l" + ObjectIds.toText(blobId) + ".vineyard::Blob@" + SELF, data.get("buffer_").asText(),
                "a blob member is a link naming its instance");
        assertFalse(data.get("transient").asBoolean());
        assertEquals(SELF, data.get("instance_id").asLong());
        assertFalse(data.has("id"), "the id is the key, not a field");
        long sig = meta.get(id).get("signature").asLong();
        assertEquals("\"" + ObjectIds.toText(id) + "\"", keys.get("/signatures/i" + SELF + "/" + ObjectIds.signatureText(sig)));

        assertTrue(meta.get(id).get("transient").asBoolean(), "publishOps changes nothing");
        meta.markPublished(id);
        assertFalse(meta.get(id).get("transient").asBoolean());
        assertTrue(meta.publishOps(id).isEmpty(), "a published object is not published twice");

        Map<String, String> name = asMap(meta.nameOps(id, "a/b~c"));
        assertEquals(Long.toUnsignedString(id), name.get("/names/a~1b~0c"), "names are escaped as JSON pointer tokens");
        assertEquals("\"va/b~c\"", name.get("/data/" + ObjectIds.toText(id) + "/__name"));

        Set<Long> doomed = meta.deleteSet(new long[] {id}, false, true);
        List<MetaOp> unpublish = meta.unpublishOps(doomed);
        assertTrue(unpublish.stream().anyMatch(op -> op.isDelete() && op.prefix() && op.key().equals("/data/" + ObjectIds.toText(id))),
                "a delete removes the data key and the fields under it");
    }

    @Test
    void aReplicaIsBuiltFromVineyardsKeysAndResolvesGlobalMembersBySignature() {
        long remoteTensor = 0x0000_1111_0000_0001L;
        long remoteBlob = 0x8000_1111_0000_0002L;
        long global = 0x0000_1111_0000_0003L;
        long sig = 0x0abc_def0_1234_5678L;
        String tensor = "{\"typename\":\"vvineyard::Tensor<int64>\",\"shape_\":\"v[2]\",\"buffer_\":\"l" + ObjectIds.toText(remoteBlob)
                + ".vineyard::Blob@7\",\"instance_id\":7,\"signature\":" + sig + ",\"transient\":false,\"nbytes\":16}";
        String globalValue = "{\"typename\":\"vvineyard::GlobalTensor\",\"global\":true,\"partitions_-size\":1,"
                + "\"partitions_-0\":\"l" + ObjectIds.signatureText(sig) + ".vineyard::Tensor\",\"instance_id\":" + ObjectIds.INVALID_ID
                + ",\"signature\":99,\"transient\":false,\"nbytes\":0}";
        meta.applyRemote(List.of(
                MetaOp.put("/data/" + ObjectIds.toText(global), globalValue), // the parent may come first: links resolve when read
                MetaOp.put("/data/" + ObjectIds.toText(remoteTensor), tensor),
                MetaOp.put("/data/" + ObjectIds.toText(remoteTensor) + "/__name", "\"vremote\""),
                MetaOp.put("/names/remote", Long.toUnsignedString(remoteTensor)),
                MetaOp.put("/signatures/i7/" + ObjectIds.signatureText(sig), "\"" + ObjectIds.toText(remoteTensor) + "\""),
                MetaOp.put("/instances/i7/rpc_endpoint", "\"h7:9600\""),
                MetaOp.put("/next_instance_id", "8"),
                MetaOp.put("/meta_sync_lock/694d7a", "")), null);

        ObjectNode t = meta.get(remoteTensor);
        assertEquals("vineyard::Tensor<int64>", t.get("typename").asText(), "the v tag is gone");
        assertEquals("[2]", t.get("shape_").asText());
        assertEquals("remote", t.get("__name").asText());
        JsonNode b = t.get("buffer_");
        assertEquals(ObjectIds.toText(remoteBlob), b.get("id").asText());
        assertEquals(7, b.get("instance_id").asLong(), "a remote blob is described as vineyard does (spec 2.3)");
        assertEquals(0, b.get("length").asLong());
        assertEquals(remoteTensor, meta.getName("remote"));
        assertEquals("h7:9600", meta.instance(7).get("rpc_endpoint").asText());

        ObjectNode g = meta.get(global);
        assertEquals(ObjectIds.toText(remoteTensor), g.get("partitions_-0").get("id").asText(), "a member linked by signature");

        meta.applyRemote(List.of(MetaOp.delete("/instances/i7/rpc_endpoint")), null);
        assertNull(meta.instance(7), "an instance whose keys went is gone");
        meta.applyRemote(List.of(MetaOp.delete("/names/remote"), MetaOp.delete("/data/" + ObjectIds.toText(remoteTensor))), null);
        assertNull(meta.getName("remote"));
        assertFalse(meta.exists(remoteTensor));
    }

    @Test
    void ownObjectsSurviveForgettingTheReplicaAndARemoteDeleteFreesTheirBlobs() {
        long own = tensorWithBlob();
        meta.markPublished(own);
        meta.putName(own, "mine");
        meta.applyRemote(List.of(MetaOp.put("/data/" + ObjectIds.toText(5),
                "{\"typename\":\"vT\",\"instance_id\":9,\"signature\":5,\"transient\":false}")), null);
        assertTrue(meta.exists(5));

        meta.forgetReplica();
        assertFalse(meta.exists(5), "other instances' objects go with the replica");
        assertTrue(meta.exists(own), "this instance's own stay");
        assertEquals(own, meta.getName("mine"));
        Map<String, String> again = asMap(meta.republishOps());
        assertNotNull(again.get("/data/" + ObjectIds.toText(own)), "and are published again");
        assertEquals(Long.toUnsignedString(own), again.get("/names/mine"));

        long before = blobs.usageBytes();
        meta.applyRemote(List.of(MetaOp.put("/data/" + ObjectIds.toText(own), "{\"typename\":\"vX\"}")), null);
        assertEquals("vineyard::Tensor<double>", meta.get(own).get("typename").asText(), "our own publication is the source");
        meta.applyRemote(List.of(MetaOp.delete("/data/" + ObjectIds.toText(own))), null);
        assertFalse(meta.exists(own), "another instance deleted it");
        assertTrue(blobs.usageBytes() < before, "and its blob went too");
    }

    @Test
    void ourOwnDeleteReportedBackBeforeWeApplyItLeavesTheDeepDeleteWhole() {
        long own = tensorWithBlob();
        long blob = ObjectIds.parseText(meta.get(own).get("buffer_").get("id").asText());
        meta.markPublished(own);
        long before = blobs.usageBytes();

        Set<Long> marked = meta.beginLeave(new long[] {own}, false, true);
        assertEquals(Set.of(own, blob), marked);
        // the watch reports the committed delete before the handler applies it here
        meta.applyRemote(List.of(MetaOp.delete("/data/" + ObjectIds.toText(own))), null);
        assertTrue(meta.exists(own), "the report of our own delete is left to the local delete");
        List<Long> deleted = meta.delete(new long[] {own}, false, true, writer, false);
        meta.endLeave(marked);

        assertEquals(List.of(blob), deleted, "the deep delete still takes the member blob");
        assertFalse(meta.exists(own));
        assertFalse(meta.exists(blob));
        assertTrue(blobs.usageBytes() < before);

        long next = tensorWithBlob();
        meta.markPublished(next);
        meta.applyRemote(List.of(MetaOp.delete("/data/" + ObjectIds.toText(next))), null);
        assertFalse(meta.exists(next), "once the delete ended, a delete from elsewhere applies as before");
    }
}
