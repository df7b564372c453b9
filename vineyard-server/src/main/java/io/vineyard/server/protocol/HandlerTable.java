package io.vineyard.server.protocol;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.VineyardException;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Request type to handler. Types of vineyard 0.24 whose features have not landed answer
 * NotImplemented; any other type answers vineyard's {@code Got unexpected command}, and so do our
 * {@link #EXTENSIONS} when the daemon runs with {@code --noextensions}.
 */
public final class HandlerTable {
    /** Request types of vineyard 0.24 whose features have not landed here yet. */
    public static final Set<String> NOT_IMPLEMENTED = Set.of(
            "make_arena_request", "finalize_arena_request",
            "acquire_lock_request", "release_lock_request", "create_gpu_buffer_request",
            "get_gpu_buffers_request", "release_blobs_with_rdma_request");

    /**
     * Our requests beyond vineyard's protocol, advertised in {@code register_reply.extensions} while
     * they are served, so that clients use them only on a daemon that has them (sorted, as listed there).
     */
    public static final List<String> EXTENSIONS = List.of(
            "get_object_request", "list_sessions_request", "put_object_request", "release_buffers_request",
            "server_stats_request");

    private final Map<String, Handler> byType = new HashMap<>();

    public HandlerTable(List<HandlerGroup> groups, boolean extensionsOn) {
        for (HandlerGroup g : groups) {
            g.handlers().forEach((type, h) -> {
                if (!extensionsOn && EXTENSIONS.contains(type)) {
                    return;
                }
                if (byType.putIfAbsent(type, h) != null) {
                    throw new IllegalArgumentException("two handlers for " + type);
                }
            });
        }
    }

    /** Every type with a handler or a NotImplemented answer (the request statistics' entries). */
    public Set<String> knownTypes() {
        Set<String> all = new TreeSet<>(byType.keySet());
        all.addAll(NOT_IMPLEMENTED);
        return all;
    }

    public void dispatch(Peer peer, String type, ObjectNode request) {
        Handler h = byType.get(type);
        if (h != null) {
            h.handle(peer, request);
            return;
        }
        if (NOT_IMPLEMENTED.contains(type)) {
            throw new VineyardException.NotImplemented(type + " is not implemented by this vineyardd yet");
        }
        throw new VineyardException.Invalid("Got unexpected command: " + type);
    }
}
