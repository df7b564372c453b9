package io.vineyard.server.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobLocation;
import io.vineyard.server.store.BlobStore;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The plasma-compatible requests of a plasma session ({@code bulk_store_type} 2): blobs named by
 * plasma ids (the wire's base64 text). They are ordinary blobs of the session's store underneath, so
 * the usual rules hold: a connection's holds go when it ends, memory is reused only once nobody holds
 * it, and the session's limit counts them. On a default session these requests answer Invalid.
 *
 * <p>Replies as vineyard 0.24 writes them: the payload adds {@code plasma_id}, {@code plasma_size},
 * {@code ref_cnt} and has no {@code is_gpu}; {@code plasma_seal} answers {@code seal_reply}; a get
 * lists payloads as {@code "0"}, {@code "1"}, ... and passes the fds the connection lacks after the
 * reply, without naming them.
 */
public final class PlasmaHandlers implements HandlerGroup {
    private final Session self;
    private final DaemonContext ctx;

    public PlasmaHandlers(Session self) {
        this.self = self;
        this.ctx = self.context();
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.of(
                "create_buffer_by_plasma_request", this::create,
                "get_buffers_by_plasma_request", this::get,
                "plasma_seal_request", this::seal,
                "plasma_release_request", this::release,
                "plasma_delete_data_request", this::delete);
    }

    private PlasmaIndex index(String type) {
        if (!self.isPlasma()) {
            throw new VineyardException.Invalid(type + " needs a plasma session (new_session with bulk_store_type 2), "
                    + "this socket serves " + (self.isRoot() ? "the root session" : self.toString()));
        }
        return self.plasma();
    }

    private BlobStore blobs() {
        return ctx.blobs();
    }

    /** A plasma id for a message: its bytes when they are printable text (as vineyard prints it), else the base64. */
    static String readable(String plasmaId) {
        try {
            String text = new String(Base64.getDecoder().decode(plasmaId), StandardCharsets.UTF_8);
            return text.chars().allMatch(c -> c >= 0x20 && c < 0x7f) ? text : plasmaId;
        } catch (IllegalArgumentException e) {
            return plasmaId;
        }
    }

    private static String plasmaId(ObjectNode req) {
        return Fields.string(req, "plasma_id");
    }

    private void create(Peer peer, ObjectNode req) {
        PlasmaIndex index = index("create_buffer_by_plasma_request");
        String pid = plasmaId(req);
        long size = Fields.u64(req, "size");
        long plasmaSize = Fields.u64(req, "plasma_size", 0);
        Made made = ctx.locked(() -> {
            PlasmaIndex.Entry old = index.get(pid);
            if (old != null && blobs().exists(old.blobId())) {
                throw new VineyardException(Status.OBJECT_EXISTS, "create_buffer_by_plasma: plasma object "
                        + readable(pid) + " already exists in " + self.name());
            }
            Blob b = blobs().create(size, peer.holdings().blobs());
            index.put(pid, new PlasmaIndex.Entry(b.id(), plasmaSize));
            BlobLocation loc = blobs().location(b);
            return new Made(payload(loc, pid, plasmaSize, 0), Replies.newFds(peer, List.of(loc)));
        });
        ObjectNode r = Replies.reply("create_buffer_by_plasma_reply");
        r.set("id", made.payload().get("object_id"));
        r.set("created", made.payload());
        r.put("fd", made.fds().isEmpty() ? -1 : made.fds().get(0).key());
        peer.send(r);
        Replies.passFds(peer, made.fds());
    }

    private record Made(ObjectNode payload, List<Replies.FdToPass> fds) {
    }

    /** vineyard's {@code PlasmaPayload} JSON. */
    private static ObjectNode payload(BlobLocation loc, String pid, long plasmaSize, int refCount) {
        ObjectNode p = Replies.payload(loc);
        p.remove("is_gpu");
        p.put("plasma_id", pid);
        p.put("plasma_size", plasmaSize);
        p.put("ref_cnt", refCount);
        return p;
    }

    private void get(Peer peer, ObjectNode req) {
        PlasmaIndex index = index("get_buffers_by_plasma_request");
        List<String> pids = legacyStrings(req);
        boolean unsafe = Fields.bool(req, "unsafe", false);
        Made[] out = ctx.locked(() -> {
            List<String> found = new ArrayList<>(pids.size());
            List<Long> ids = new ArrayList<>(pids.size());
            for (String pid : pids) {
                PlasmaIndex.Entry e = index.get(pid);
                Blob b = e == null ? null : blobs().find(e.blobId());
                if (b == null) {
                    continue; // unknown ids are left out, as get_buffers leaves them out
                }
                if (!b.sealed() && !unsafe && b.id() != ObjectIds.EMPTY_BLOB_ID) {
                    throw new VineyardException.ObjectNotSealed("Failed to get blob with id " + readable(pid));
                }
                found.add(pid);
                ids.add(b.id());
            }
            List<Blob> got = blobs().get(ids.stream().mapToLong(Long::longValue).toArray(), unsafe, peer.holdings().blobs());
            List<BlobLocation> locs = new ArrayList<>(got.size());
            Made[] made = new Made[got.size() + 1];
            for (int i = 0; i < got.size(); i++) {
                BlobLocation loc = blobs().location(got.get(i));
                locs.add(loc);
                made[i] = new Made(payload(loc, found.get(i), index.get(found.get(i)).plasmaSize(),
                        blobs().holderCount(got.get(i))), null);
            }
            made[got.size()] = new Made(null, Replies.newFds(peer, locs));
            return made;
        });
        ObjectNode r = Replies.reply("get_buffers_by_plasma_reply");
        for (int i = 0; i < out.length - 1; i++) {
            r.set(Integer.toString(i), out[i].payload());
        }
        r.put("num", out.length - 1);
        peer.send(r);
        Replies.passFds(peer, out[out.length - 1].fds());
    }

    /** {@code num} and {@code "0"}, {@code "1"}, ... as plasma ids. */
    private static List<String> legacyStrings(ObjectNode req) {
        long num = Fields.u64(req, "num", 0);
        if (num < 0 || num > 1_000_000) {
            throw new VineyardException.Invalid("field 'num' is out of range: " + Long.toUnsignedString(num));
        }
        List<String> out = new ArrayList<>((int) num);
        for (int i = 0; i < num; i++) {
            JsonNode n = req.get(Integer.toString(i));
            if (n == null || !n.isTextual()) {
                throw new VineyardException.Invalid("get_buffers_by_plasma_request: field '" + i + "' must be a plasma id (text)");
            }
            out.add(n.textValue());
        }
        return out;
    }

    /** The blob of a plasma id that exists in this session. */
    private long existing(PlasmaIndex index, String pid, String type) {
        PlasmaIndex.Entry e = index.get(pid);
        if (e == null || !blobs().exists(e.blobId())) {
            throw new VineyardException.ObjectNotExists(type + ": plasma object " + readable(pid)
                    + " does not exist in " + self.name());
        }
        return e.blobId();
    }

    private void seal(Peer peer, ObjectNode req) {
        PlasmaIndex index = index("plasma_seal_request");
        String pid = plasmaId(req);
        ctx.lockedRun(() -> blobs().seal(existing(index, pid, "plasma_seal"), peer.holdings().blobs()));
        peer.send(Replies.reply("seal_reply"));
    }

    private void release(Peer peer, ObjectNode req) {
        PlasmaIndex index = index("plasma_release_request");
        String pid = plasmaId(req);
        ctx.lockedRun(() -> blobs().release(existing(index, pid, "plasma_release"), peer.holdings().blobs()));
        peer.send(Replies.reply("plasma_release_reply"));
    }

    /** Removes the plasma object from view; its memory is reused once no connection holds it. */
    private void delete(Peer peer, ObjectNode req) {
        PlasmaIndex index = index("plasma_delete_data_request");
        String pid = plasmaId(req);
        ctx.lockedRun(() -> {
            long id = existing(index, pid, "plasma_delete_data");
            index.remove(pid);
            blobs().delete(id, peer.holdings().blobs(), false);
        });
        peer.send(Replies.reply("plasma_delete_data_reply"));
    }
}
