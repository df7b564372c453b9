package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.posix.Posix;
import io.vineyard.common.wire.FrameSocket;
import io.vineyard.server.store.BlobStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlobHandlersTest {
    private final InProcessDaemon daemon = new InProcessDaemon();

    @AfterEach
    void checkInvariants() {
        daemon.close();
    }

    @Test
    void aNewDiskFileIsAlwaysPassedEvenWhenTheKernelReusesItsFdNumber() {
        TestPeer p = daemon.connect(false);
        ObjectNode first = daemon.call(p, "{\"type\":\"create_disk_buffer_request\",\"size\":4096,\"path\":\"\"}");
        int firstKey = first.get("fd").asInt();
        assertTrue(firstKey >= BlobStore.FIRST_DISK_KEY, "a disk file is named by its own key");
        assertEquals(firstKey, first.path("created").path("store_fd").asInt(), "payload and reply name the same file");
        assertEquals(1, p.passedFds.size());
        daemon.call(p, "{\"type\":\"drop_buffer_request\",\"id\":" + first.get("id") + "}");

        ObjectNode second = daemon.call(p, "{\"type\":\"create_disk_buffer_request\",\"size\":4096,\"path\":\"\"}");
        int secondKey = second.get("fd").asInt();
        assertNotEquals(firstKey, secondKey, "the new file never takes the old file's name");
        assertEquals(2, p.passedFds.size(), "the new file's fd is passed although the old one was sent before");
        daemon.call(p, "{\"type\":\"drop_buffer_request\",\"id\":" + second.get("id") + "}");
    }

    @Test
    void aDiskFileIsPassedAgainAfterTheConnectionHeldNoneOfItsBlobs() {
        TestPeer p = daemon.connect(false);
        ObjectNode made = daemon.call(p, "{\"type\":\"create_disk_buffer_request\",\"size\":4096,\"path\":\"\"}");
        String id = made.get("id").toString();
        daemon.call(p, "{\"type\":\"seal_request\",\"object_id\":" + id + "}");
        ObjectNode got = daemon.call(p, "{\"type\":\"get_buffers_request\",\"ids\":[" + id + "]}");
        assertEquals(0, got.get("fds").size(), "still held: the client has the fd");
        daemon.call(p, "{\"type\":\"release_request\",\"object_id\":" + id + "}");
        got = daemon.call(p, "{\"type\":\"get_buffers_request\",\"ids\":[" + id + "]}");
        assertEquals(1, got.get("fds").size(), "released in between: the client may have closed it");
        assertEquals(2, p.passedFds.size());
        daemon.call(p, "{\"type\":\"drop_buffer_request\",\"id\":" + id + "}");
    }

    @Test
    void thePoolFdIsPassedOncePerConnection() {
        TestPeer p = daemon.connect(false);
        ObjectNode a = daemon.call(p, "{\"type\":\"create_buffer_request\",\"size\":64}");
        ObjectNode b = daemon.call(p, "{\"type\":\"create_buffer_request\",\"size\":64}");
        assertEquals(daemon.blobs().storeFd(), a.get("fd").asInt());
        assertEquals(-1, b.get("fd").asInt());
        assertEquals(1, p.passedFds.size());
    }

    @Test
    void getRemoteBuffersDropsOnlyTheHoldsItTook() {
        TestPeer producer = daemon.connect(false);
        ObjectNode own = daemon.call(producer, "{\"type\":\"create_buffer_request\",\"size\":64}");
        daemon.call(producer, "{\"type\":\"seal_request\",\"object_id\":" + own.get("id") + "}");
        ObjectNode other = daemon.call(producer, "{\"type\":\"create_buffer_request\",\"size\":64}");
        daemon.call(producer, "{\"type\":\"seal_request\",\"object_id\":" + other.get("id") + "}");

        int[] pair = Posix.socketpair();
        assertNotNull(pair);
        TestPeer rpc = daemon.connect(true);
        try (FrameSocket mine = new FrameSocket(pair[0], false); FrameSocket theirs = new FrameSocket(pair[1], true)) {
            rpc.socket = mine;
            daemon.call(rpc, "{\"type\":\"get_buffers_request\",\"ids\":[" + own.get("id") + "]}");
            assertEquals(1, heldBy(rpc));
            ObjectNode reply = daemon.call(rpc, "{\"type\":\"get_remote_buffers_request\",\"ids\":["
                    + own.get("id") + "," + other.get("id") + "],\"compress\":false}");
            assertEquals(2, reply.get("num").asInt());
            assertEquals(1, heldBy(rpc), "the hold taken before the transfer stays; the transfer's own is dropped");
            theirs.shutdown();
        }
    }

    private int heldBy(TestPeer p) {
        return daemon.ctx.locked(() -> p.holdings().blobs().linkCount());
    }
}
