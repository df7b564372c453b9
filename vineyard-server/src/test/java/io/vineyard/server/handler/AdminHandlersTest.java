package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.server.daemon.RequestStats;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    @Test
    void registerReplyAdvertisesTheExtensionsTheDaemonServes() {
        try (InProcessDaemon daemon = new InProcessDaemon()) {
            TestPeer p = daemon.connect(false);
            List<String> advertised = new ArrayList<>();
            p.replies.get(0).get("extensions").forEach(n -> advertised.add(n.asText()));
            assertEquals(List.of("get_object_request", "list_sessions_request", "put_object_request",
                    "release_buffers_request", "server_stats_request"), advertised);
            assertTrue(daemon.call(p, "{\"type\":\"server_stats_request\"}").has("requests"));
        }
    }

    @Test
    void withoutExtensionsTheDaemonAnswersThemAsVineyarddDoes() {
        try (InProcessDaemon daemon = new InProcessDaemon("--noextensions")) {
            TestPeer p = daemon.connect(false);
            assertFalse(p.replies.get(0).has("extensions"));
            for (String type : List.of("put_object_request", "get_object_request", "release_buffers_request",
                    "server_stats_request", "list_sessions_request")) {
                VineyardException e = assertThrows(VineyardException.class,
                        () -> daemon.call(p, "{\"type\":\"" + type + "\"}"));
                assertEquals(Status.INVALID, e.status());
                assertEquals("Got unexpected command: " + type, e.getMessage());
            }
        }
    }
}
