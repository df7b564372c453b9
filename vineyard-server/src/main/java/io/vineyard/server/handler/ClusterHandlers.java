package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.server.cluster.Migrations;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;

import java.util.Map;

/** Requests across instances: {@code migrate_object} (spec 6.5). */
public final class ClusterHandlers implements HandlerGroup {
    private final Migrations migrations;

    public ClusterHandlers(DaemonContext ctx) {
        this.migrations = new Migrations(ctx);
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.of("migrate_object_request", this::migrate);
    }

    /**
     * {@code migrate_object_request {object_id}} -> {@code migrate_object_reply {object_id}}: the local
     * copy's id (the object's own when it is local). vineyard's overload also sends {@code local},
     * {@code is_stream}, {@code peer} and {@code peer_rpc_endpoint}; its server ignores them, and so does this one.
     */
    private void migrate(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "object_id");
        long copy = migrations.migrate(id);
        ObjectNode r = Replies.reply("migrate_object_reply");
        r.set("object_id", Json.u64(copy));
        peer.send(r);
    }
}
