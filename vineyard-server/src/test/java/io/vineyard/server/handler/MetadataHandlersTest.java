package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetadataHandlersTest {
    private final InProcessDaemon daemon = new InProcessDaemon();

    @AfterEach
    void checkInvariants() {
        daemon.close();
    }

    private long usage(TestPeer p, String field) {
        if (field.equals("memory_usage")) {
            return daemon.call(p, "{\"type\":\"instance_status_request\"}").path("meta").path(field).asLong();
        }
        return daemon.call(p, "{\"type\":\"server_stats_request\"}").path(field).asLong();
    }

    private String sealedBlob(TestPeer p, int size) {
        ObjectNode b = daemon.call(p, "{\"type\":\"create_buffer_request\",\"size\":" + size + "}");
        daemon.call(p, "{\"type\":\"seal_request\",\"object_id\":" + b.get("id") + "}");
        return ObjectIds.toText(b.get("id").asLong());
    }

    /** vineyard's rpc_delete_test: a nested tuple built over IPC, deep-deleted over RPC, never got. */
    @Test
    void aDeepDeleteOverRpcLowersUsageAtOnceWhileTheBuilderStillHoldsTheBlobs() {
        TestPeer builder = daemon.connect(false);
        TestPeer remote = daemon.connect(true);
        long before = usage(remote, "memory_usage");
        StringBuilder tuple = new StringBuilder("{\"typename\":\"vineyard::Tuple\",\"__elements_-size\":4");
        for (int i = 0; i < 4; i++) {
            String blob = sealedBlob(builder, 40);
            ObjectNode arr = daemon.call(builder, "{\"type\":\"create_data_request\",\"content\":{\"typename\":"
                    + "\"vineyard::Array<double>\",\"buffer_\":{\"id\":\"" + blob + "\",\"typename\":\"vineyard::Blob\"}}}");
            tuple.append(",\"__elements_-").append(i).append("\":{\"id\":\"")
                    .append(ObjectIds.toText(arr.get("id").asLong())).append("\"}");
        }
        tuple.append('}');
        ObjectNode t = daemon.call(builder, "{\"type\":\"create_data_request\",\"content\":" + tuple + "}");
        assertEquals(before + 160, usage(remote, "memory_usage"));

        daemon.call(remote, "{\"type\":\"del_data_request\",\"id\":[" + t.get("id") + "],\"deep\":true,\"force\":false}");
        assertEquals(before, usage(remote, "memory_usage"), "usage as vineyardd reports it");
        assertEquals(160, usage(remote, "deferred_free_bytes"), "the memory waits for the builder's holds");
        builder.holdings().close();
        assertEquals(0, usage(remote, "deferred_free_bytes"), "freed once the builder is gone");
    }

    @Test
    void getDataOfTheInvalidIdAnswersVineyardsWholePoolBlob() {
        TestPeer p = daemon.connect(false);
        ObjectNode r = daemon.call(p, "{\"type\":\"get_data_request\",\"id\":[18446744073709551615],\"sync_remote\":true,\"wait\":false}");
        ObjectNode blob = (ObjectNode) r.path("content").path("offffffffffffffff");
        assertEquals("vineyard::Blob", blob.path("typename").asText());
        assertEquals(daemon.blobs().limitBytes(), blob.path("length").asLong());
        assertEquals(daemon.blobs().limitBytes(), blob.path("nbytes").asLong());
    }

    @Test
    void createDatasWithOneBadTreeMakesNoneOfThem() {
        TestPeer p = daemon.connect(false);
        String blob = sealedBlob(p, 8);
        long before = daemon.call(p, "{\"type\":\"list_data_request\",\"pattern\":\"*\",\"regex\":false,\"limit\":100}")
                .path("content").size();
        String good = "{\"typename\":\"vineyard::Array<double>\",\"buffer_\":{\"id\":\"" + blob + "\",\"typename\":\"vineyard::Blob\"}}";
        String bad = "{\"typename\":\"vineyard::Tuple\",\"__elements_-0\":{\"id\":\"o00badc0ffee00001\"}}";
        VineyardException e = assertThrows(VineyardException.ObjectNotExists.class, () -> daemon.call(p,
                "{\"type\":\"create_datas_request\",\"contents\":[" + good + "," + good + "," + bad + "]}"));
        assertTrue(e.getMessage().contains("o00badc0ffee00001"), e.getMessage());
        assertEquals(before, daemon.call(p, "{\"type\":\"list_data_request\",\"pattern\":\"*\",\"regex\":false,\"limit\":100}")
                .path("content").size(), "the two good trees before the bad one are not left behind");
        ObjectNode r = daemon.call(p, "{\"type\":\"create_datas_request\",\"contents\":[" + good + "," + good + "]}");
        assertEquals(2, r.path("num").asInt());
    }

    @Test
    void createDataWithoutContentIsInvalid() {
        TestPeer p = daemon.connect(false);
        VineyardException e = assertThrows(VineyardException.Invalid.class,
                () -> daemon.call(p, "{\"type\":\"create_data_request\"}"));
        assertTrue(e.getMessage().contains("'content' must be a JSON object, got nothing"), e.getMessage());
    }
}
