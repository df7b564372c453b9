package io.vineyard.server.protocol;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.server.store.BlobLocation;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Reply building shared by the handlers: reply envelopes, blob payloads and the fds a reply passes. */
public final class Replies {
    private Replies() {
    }

    /** An empty reply of {@code type}. */
    public static ObjectNode reply(String type) {
        ObjectNode r = Json.object();
        r.put("type", type);
        return r;
    }

    /** vineyard's payload JSON for a blob. */
    public static ObjectNode payload(BlobLocation b) {
        ObjectNode p = Json.object();
        p.set("object_id", Json.u64(b.id()));
        p.put("store_fd", b.storeKey());
        p.put("data_offset", b.dataOffset());
        p.put("data_size", b.dataSize());
        p.put("map_size", b.mapSize());
        p.put("pointer", b.pointer());
        p.put("is_sealed", b.sealed());
        p.put("is_owner", true);
        p.put("is_gpu", false);
        return p;
    }

    /**
     * The files among {@code blobs} this connection has not received yet, marked as sent: each as its
     * store key (what the reply's {@code fd}/{@code fds} names) and the daemon fd to pass. Empty for
     * RPC connections.
     */
    public static List<FdToPass> newFds(Peer peer, Collection<BlobLocation> blobs) {
        List<FdToPass> out = new ArrayList<>(1);
        if (peer.isRpc()) {
            return out;
        }
        for (BlobLocation b : blobs) {
            if (b.fd() >= 0 && peer.holdings().markStoreSent(b.storeKey())) {
                out.add(new FdToPass(b.storeKey(), b.fd()));
            }
        }
        return out;
    }

    /** One fd a reply passes: named {@code key} in the reply, {@code fd} in the daemon. */
    public record FdToPass(int key, int fd) {
    }

    /** Passes the fds after their reply. */
    public static void passFds(Peer peer, List<FdToPass> fds) {
        for (FdToPass f : fds) {
            peer.sendFd(f.fd());
        }
    }
}
