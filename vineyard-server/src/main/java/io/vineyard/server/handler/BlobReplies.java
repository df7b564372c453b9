package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobLocation;
import io.vineyard.server.store.BlobStore;

import java.util.ArrayList;
import java.util.List;

/**
 * Blobs described for a reply: their payloads, and the fds among them this connection has not
 * received yet. Made under the store lock, sent after it.
 */
final class BlobReplies {
    final List<ObjectNode> payloads;
    final List<Replies.FdToPass> fds;

    private BlobReplies(List<ObjectNode> payloads, List<Replies.FdToPass> fds) {
        this.payloads = payloads;
        this.fds = fds;
    }

    /** Describes {@code blobs} (under the store lock). */
    static BlobReplies of(BlobStore store, List<Blob> blobs, Peer peer) {
        List<BlobLocation> locations = new ArrayList<>(blobs.size());
        List<ObjectNode> payloads = new ArrayList<>(blobs.size());
        for (Blob b : blobs) {
            BlobLocation loc = store.location(b);
            locations.add(loc);
            payloads.add(Replies.payload(loc));
        }
        return new BlobReplies(payloads, Replies.newFds(peer, locations));
    }

    /** Puts the keys of the fds to pass into {@code reply[field]}. */
    void putFds(ObjectNode reply, String field) {
        ArrayNode arr = reply.putArray(field);
        fds.forEach(f -> arr.add(f.key()));
    }

    /** The one fd key to name in a single-blob reply, or -1. */
    int singleFd() {
        return fds.isEmpty() ? -1 : fds.get(0).key();
    }

    /** Sends {@code reply}, then passes the fds. */
    void send(Peer peer, ObjectNode reply) {
        peer.send(reply);
        Replies.passFds(peer, fds);
    }
}
