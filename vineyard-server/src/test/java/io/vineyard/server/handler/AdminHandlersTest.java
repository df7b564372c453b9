package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.server.daemon.RequestStats;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminHandlersTest {
    @Test
    void junkRequestTypesShareOneStatisticsEntry() {
        try (InProcessDaemon daemon = new InProcessDaemon()) {
            RequestStats stats = daemon.ctx.stats();
            for (int i = 0; i < 20_000; i++) {
                stats.record("junk_" + i, 10, 0);
            }
            stats.record("create_buffer_request", 10, 0);
            TestPeer p = daemon.connect(false);
            ObjectNode r = daemon.call(p, "{\"type\":\"server_stats_request\"}");
            ObjectNode requests = (ObjectNode) r.get("requests");
            assertEquals(20_000, requests.path(RequestStats.UNKNOWN).path("count").asLong());
            assertEquals(1, requests.path("create_buffer_request").path("count").asLong());
            assertEquals(2, requests.size(), "only types that were seen, and one entry for all unknown ones");
        }
    }

    @Test
    void twoDaemonsInOneJvmKeepTheirOwnCountersAndBusyWait() {
        try (InProcessDaemon one = new InProcessDaemon(); InProcessDaemon two = new InProcessDaemon()) {
            one.ctx.countUnexpectedError();
            assertEquals(1, one.ctx.unexpectedErrors());
            assertEquals(0, two.ctx.unexpectedErrors());
            assertNotSame(one.ctx.busyWait(), two.ctx.busyWait());
            one.ctx.busyWait().beginRequest(this);
            assertTrue(two.ctx.busyWait().idle(), "a request served by one daemon does not stop the other's spin");
            one.ctx.busyWait().endRequest();
        }
    }

    @Test
    void registerReplyNamesTheProtocolVersion() {
        try (InProcessDaemon daemon = new InProcessDaemon()) {
            TestPeer p = daemon.connect(false);
            assertTrue(p.registered);
            assertEquals(AdminHandlers.VERSION, p.replies.get(0).get("version").asText());
        }
    }
}
