package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.daemon.Waits;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;

import java.util.List;
import java.util.Map;

/** Name requests (spec 1.6): put, get (with wait), list and drop names. */
public final class NameHandlers implements HandlerGroup {
    private final DaemonContext ctx;

    public NameHandlers(DaemonContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.of(
                "put_name_request", this::putName,
                "get_name_request", this::getName,
                "list_name_request", this::listName,
                "drop_name_request", this::dropName);
    }

    private void putName(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "object_id");
        String name = Fields.string(req, "name");
        if (ctx.shared()) {
            ctx.commit(ctx.locked(() -> ctx.meta().nameOps(id, name)));
        }
        ctx.lockedRun(() -> ctx.meta().putName(id, name));
        peer.send(Replies.reply("put_name_reply"));
    }

    private void getName(Peer peer, ObjectNode req) {
        String name = Fields.string(req, "name");
        boolean wait = Fields.bool(req, "wait", false);
        Long id;
        if (wait) {
            id = ctx.await(() -> ctx.meta().getName(name), List.of(new Waits.Name(name)),
                    DaemonContext.noDeadline(), peer::gone);
            if (id == null) {
                return; // the peer left or the daemon stops: nobody to answer
            }
        } else {
            id = ctx.locked(() -> ctx.meta().getName(name));
            if (id == null) {
                throw new VineyardException.ObjectNotExists("failed to find name: " + name);
            }
        }
        ObjectNode r = Replies.reply("get_name_reply");
        r.set("object_id", Json.u64(id));
        peer.send(r);
    }

    private void listName(Peer peer, ObjectNode req) {
        String pattern = Fields.string(req, "pattern", "*");
        boolean regex = Fields.bool(req, "regex", false);
        long limit = Fields.u64(req, "limit", 5);
        Map<String, Long> names = ctx.locked(() -> ctx.meta().listNames(pattern, regex, limit));
        ObjectNode r = Replies.reply("list_name_reply");
        ObjectNode out = r.putObject("names");
        if (names != null) {
            names.forEach((k, v) -> out.set(k, Json.u64(v)));
        }
        r.put("size", out.size());
        peer.send(r);
    }

    private void dropName(Peer peer, ObjectNode req) {
        String name = Fields.string(req, "name");
        if (ctx.shared()) {
            ctx.commit(ctx.locked(() -> ctx.meta().dropNameOps(name)));
        }
        ctx.lockedRun(() -> ctx.meta().dropName(name));
        peer.send(Replies.reply("drop_name_reply"));
    }
}
