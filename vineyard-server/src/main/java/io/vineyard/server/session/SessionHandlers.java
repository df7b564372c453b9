package io.vineyard.server.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.server.ServerConfig;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Session requests of one session's socket: {@code new_session}, {@code delete_session} and
 * {@code move_buffers_ownership} (how vineyard's client makes a {@code ShallowCopy} across sessions:
 * the blobs move into this session, then the client creates the object's metadata here).
 */
public final class SessionHandlers implements HandlerGroup {
    private final Session self;
    private final Sessions sessions;

    public SessionHandlers(Session self, Sessions sessions) {
        this.self = self;
        this.sessions = sessions;
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.of(
                "new_session_request", this::newSession,
                "delete_session_request", this::deleteSession,
                "move_buffers_ownership_request", this::moveBuffersOwnership,
                "list_sessions_request", this::listSessions);
    }

    /**
     * Ours ({@code vineyardctl sessions}): every live session, the root one first, with
     * {@code session_id}, {@code socket_path}, {@code bulk_store_type}, {@code memory_usage},
     * {@code memory_limit}, {@code connections} and {@code closable} (deleted, waiting for its last
     * connection).
     */
    private void listSessions(Peer peer, ObjectNode req) {
        ObjectNode r = Replies.reply("list_sessions_reply");
        com.fasterxml.jackson.databind.node.ArrayNode out = r.putArray("sessions");
        List<Session> all = new ArrayList<>();
        all.add(sessions.root());
        all.addAll(sessions.list());
        for (Session s : all) {
            ObjectNode o = out.addObject();
            o.put("session_id", s.id());
            o.put("socket_path", s.socketPath());
            o.put("bulk_store_type", s.isPlasma() ? 2 : 1);
            o.put("memory_usage", s.context().locked(() -> s.context().blobs().usageBytes()));
            o.put("memory_limit", s.context().blobs().limitBytes());
            o.put("connections", s.context().ipcConnections());
            o.put("closable", s.closable());
        }
        peer.send(r);
    }

    /**
     * {@code {bulk_store_type: 1|2|"Normal"|"Plasma"}} and, beyond vineyard, {@code size}: the session's
     * memory limit in bytes (a number, or text with --size's suffixes such as {@code "64Mi"}); without it
     * the session may use the whole pool, as in vineyard.
     */
    private void newSession(Peer peer, ObjectNode req) {
        boolean plasma = storeType(req.get("bulk_store_type"));
        long limit = self.context().blobs().limitBytes();
        JsonNode size = req.get("size");
        if (size != null && !size.isNull()) {
            long asked = size.isTextual() ? parseSize(size.textValue()) : Json.readU64(size, "size");
            if (asked <= 0) {
                throw new VineyardException.Invalid("new_session: size must be a positive number of bytes, got " + size);
            }
            limit = Math.min(limit, asked);
        }
        Session s = sessions.create(plasma, limit);
        peer.send(Replies.reply("new_session_reply").put("socket_path", s.socketPath()));
    }

    private static long parseSize(String text) {
        try {
            return ServerConfig.parseSize(text);
        } catch (IllegalArgumentException e) {
            throw new VineyardException.Invalid("new_session: size '" + text + "' is not a size: " + e.getMessage());
        }
    }

    private static boolean storeType(JsonNode n) {
        if (n == null || n.isNull()) {
            return false;
        }
        if (n.isIntegralNumber() && (n.longValue() == 1 || n.longValue() == 2)) {
            return n.longValue() == 2;
        }
        if (n.isTextual() && (n.textValue().equals("Normal") || n.textValue().equals("Plasma"))) {
            return n.textValue().equals("Plasma");
        }
        throw new VineyardException.Invalid("new_session: bulk_store_type must be 1 (\"Normal\") or 2 (\"Plasma\"), got " + n);
    }

    /** Replies, then ends this connection; the session ends with its last connection. */
    private void deleteSession(Peer peer, ObjectNode req) {
        if (self.isRoot()) {
            throw new VineyardException.Invalid("delete_session: the root session (the daemon's own socket) cannot be deleted");
        }
        self.markClosable(peer.holdings().id());
        peer.send(Replies.reply("delete_session_reply"));
        peer.requestExit();
    }

    /**
     * Moves blobs of session {@code session_id} into this one. The mapping field that counts is the one
     * of the two sessions' kinds: {@code id_to_id} ([[from, to], ...]), {@code id_to_pid} ([[id, pid], ...]),
     * {@code pid_to_id} ({pid: id}) or {@code pid_to_pid} ({pid: pid}). A blob keeps its object id (a
     * target id must be the same); a plasma target names it by the given plasma id. All or nothing.
     */
    private void moveBuffersOwnership(Peer peer, ObjectNode req) {
        long from = Fields.u64(req, "session_id");
        if (from != self.id()) {
            Session source = sessions.find(from);
            if (source == null) {
                throw new VineyardException.Invalid("move_buffers_ownership: session " + Session.text(from) + " does not exist");
            }
            String field = (source.isPlasma() ? "pid" : "id") + "_to_" + (self.isPlasma() ? "pid" : "id");
            List<String[]> pairs = pairs(req, field);
            self.context().lockedRun(() -> move(source, pairs));
        }
        // vineyard sends no reply at all when the source is this session (its client then hangs)
        peer.send(Replies.reply("move_buffers_ownership_reply"));
    }

    /** The mapping's (from, to) pairs as text: an id as its decimal number, a plasma id as its base64 text. */
    private static List<String[]> pairs(ObjectNode req, String field) {
        JsonNode n = req.get(field);
        List<String[]> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (n.isObject()) {
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                out.add(new String[] {e.getKey(), scalar(e.getValue(), field)});
            }
        } else if (n.isArray()) {
            for (JsonNode p : n) {
                if (!p.isArray() || p.size() != 2) {
                    throw new VineyardException.Invalid("move_buffers_ownership: " + field + " must hold [from, to] pairs, got " + p);
                }
                out.add(new String[] {scalar(p.get(0), field), scalar(p.get(1), field)});
            }
        } else {
            throw new VineyardException.Invalid("move_buffers_ownership: " + field + " must be an object or an array of pairs");
        }
        return out;
    }

    private static String scalar(JsonNode v, String field) {
        if (v.isTextual()) {
            return v.textValue();
        }
        return Long.toUnsignedString(Json.readU64(v, field));
    }

    /** Under the store lock (shared by every session). */
    private void move(Session source, List<String[]> pairs) {
        long[] blobIds = new long[pairs.size()];
        for (int i = 0; i < blobIds.length; i++) {
            String[] p = pairs.get(i);
            long id = source.isPlasma() ? plasmaBlob(source, p[0]) : parseId(p[0]);
            if (!self.isPlasma() && parseId(p[1]) != id) {
                throw new VineyardException.Invalid("move_buffers_ownership: blob " + ObjectIds.toText(id)
                        + " keeps its id across sessions, it cannot become " + ObjectIds.toText(parseId(p[1])));
            }
            if (self.isPlasma() && self.plasma().get(p[1]) != null
                    && self.context().blobs().exists(self.plasma().get(p[1]).blobId())) {
                throw new VineyardException(Status.OBJECT_EXISTS,
                        "move_buffers_ownership: plasma object " + p[1] + " already exists in " + self.name());
            }
            blobIds[i] = id;
        }
        source.context().blobs().moveTo(blobIds, self.context().blobs());
        for (String[] p : pairs) {
            PlasmaIndex.Entry was = source.isPlasma() ? source.plasma().remove(p[0]) : null;
            if (self.isPlasma()) {
                long id = was != null ? was.blobId() : parseId(p[0]);
                self.plasma().put(p[1], new PlasmaIndex.Entry(id, was != null ? was.plasmaSize() : 0));
            }
        }
    }

    private static long plasmaBlob(Session source, String plasmaId) {
        PlasmaIndex.Entry e = source.plasma().get(plasmaId);
        if (e == null) {
            throw new VineyardException.ObjectNotExists("move_buffers_ownership: plasma object "
                    + PlasmaHandlers.readable(plasmaId) + " does not exist in " + source.name());
        }
        return e.blobId();
    }

    private static long parseId(String text) {
        try {
            return Long.parseUnsignedLong(text);
        } catch (NumberFormatException e) {
            throw new VineyardException.Invalid("move_buffers_ownership: '" + text + "' is not an object id");
        }
    }
}
