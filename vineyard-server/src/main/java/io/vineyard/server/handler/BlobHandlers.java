package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;
import io.vineyard.server.store.BlobStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Blob requests (spec 1.6): create (pool and disk), seal, get, drop, shrink, release, references. */
public final class BlobHandlers implements HandlerGroup {
    private final DaemonContext ctx;

    public BlobHandlers(DaemonContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.ofEntries(
                Map.entry("create_buffer_request", this::createBuffer),
                Map.entry("create_buffers_request", this::createBuffers),
                Map.entry("create_disk_buffer_request", this::createDiskBuffer),
                Map.entry("seal_request", this::seal),
                Map.entry("get_buffers_request", this::getBuffers),
                Map.entry("drop_buffer_request", this::dropBuffer),
                Map.entry("shrink_buffer_request", this::shrinkBuffer),
                Map.entry("release_request", this::release),
                Map.entry("increase_reference_count_request", this::increaseReferenceCount));
    }

    private BlobStore blobs() {
        return ctx.blobs();
    }

    private void createBuffer(Peer peer, ObjectNode req) {
        long size = Fields.u64(req, "size");
        BlobReplies out = ctx.spiller().allocating(size, () -> ctx.locked(() ->
                BlobReplies.of(blobs(), List.of(blobs().create(size, peer.holdings().blobs())), peer)));
        sendCreated(peer, "create_buffer_reply", out);
    }

    private static void sendCreated(Peer peer, String type, BlobReplies out) {
        ObjectNode r = Replies.reply(type);
        r.set("id", out.payloads.get(0).get("object_id"));
        r.set("created", out.payloads.get(0));
        r.put("fd", out.singleFd());
        out.send(peer, r);
    }

    private void createBuffers(Peer peer, ObjectNode req) {
        JsonNode sizesNode = req.get("sizes");
        if (sizesNode == null || !sizesNode.isArray()) {
            throw new VineyardException.Invalid("create_buffers_request needs an array 'sizes'");
        }
        long[] sizes = Fields.idArray(req, "sizes");
        long num = Fields.u64(req, "num", sizes.length);
        if (num != sizes.length) {
            throw new VineyardException.Invalid("create_buffers_request: num is " + num + " but sizes has "
                    + sizes.length + " entries");
        }
        BlobReplies out = ctx.spiller().allocating(total(sizes), () -> ctx.locked(() ->
                BlobReplies.of(blobs(), blobs().createAll(sizes, peer.holdings().blobs()), peer)));
        ObjectNode r = Replies.reply("create_buffers_reply");
        r.put("num", sizes.length);
        ArrayNode ids = r.putArray("ids");
        out.payloads.forEach(p -> ids.add(p.get("object_id")));
        out.putFds(r, "fds");
        Fields.putLegacyList(r, "payloads", out.payloads);
        out.send(peer, r);
    }

    /** The bytes {@code sizes} ask for together (saturating: a huge request simply cannot fit). */
    static long total(long[] sizes) {
        long sum = 0;
        for (long s : sizes) {
            sum = s < 0 || sum + s < 0 ? Long.MAX_VALUE : sum + s;
        }
        return sum;
    }

    private void createDiskBuffer(Peer peer, ObjectNode req) {
        long size = Fields.u64(req, "size");
        String path = Fields.string(req, "path", "");
        if (size <= 0 || size > (1L << 46)) {
            throw new VineyardException.Invalid("create_disk_buffer: size must be between 1 and 2^46 bytes, got "
                    + Long.toUnsignedString(size));
        }
        int fd = openDiskFile(path, size);
        BlobReplies out;
        try {
            out = ctx.locked(() -> BlobReplies.of(blobs(), List.of(blobs().createDisk(fd, size, peer.holdings().blobs())), peer));
        } catch (RuntimeException e) {
            Posix.close(fd); // no blob owns the file: nothing may keep it open
            throw e;
        }
        sendCreated(peer, "create_disk_buffer_reply", out);
    }

    /**
     * Opens (or creates) the file behind a disk blob. Unlike vineyard, an existing file is only ever
     * extended, never truncated, and must be a regular file reached without following a symlink: a
     * client request cannot destroy a file's contents.
     */
    private static int openDiskFile(String path, long size) {
        Path file;
        boolean unlink = path.isEmpty();
        long existing = -1;
        try {
            file = unlink ? Files.createTempFile("vineyard-disk-", ".blob") : Path.of(path);
            if (!unlink && Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    throw new VineyardException.Invalid("create_disk_buffer: " + path + " is not a regular file");
                }
                existing = Files.size(file);
            }
        } catch (IOException | java.nio.file.InvalidPathException e) {
            throw new VineyardException(Status.IO_ERROR, "create_disk_buffer: cannot use '" + path + "': " + e.getMessage());
        }
        int flags = 02 | 0100 | 02000000 | 0400000; // O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW
        int fd = Posix.open(file.toString(), flags, 0600);
        if (fd < 0) {
            throw new VineyardException(Status.IO_ERROR, "create_disk_buffer: " + Posix.error("open " + file).getMessage());
        }
        if (existing < size && Posix.ftruncate(fd, size) != 0) {
            String msg = Posix.error("extend " + file + " to " + size + " bytes").getMessage();
            Posix.close(fd);
            throw new VineyardException(Status.IO_ERROR, "create_disk_buffer: " + msg);
        }
        if (unlink) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // the file stays; the blob still works
            }
        }
        return fd;
    }

    private void seal(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "object_id");
        ctx.lockedRun(() -> {
            blobs().seal(id, peer.holdings().blobs());
        });
        peer.send(Replies.reply("seal_reply"));
    }

    private void getBuffers(Peer peer, ObjectNode req) {
        long[] ids = Fields.legacyIds(req, "ids");
        boolean unsafe = Fields.bool(req, "unsafe", false);
        BlobReplies out = ctx.spiller().resident(peer.holdings().blobs(), null, () -> ctx.locked(() ->
                BlobReplies.of(blobs(), blobs().get(ids, unsafe, peer.holdings().blobs()), peer)));
        ObjectNode r = Replies.reply("get_buffers_reply");
        Fields.putLegacyList(r, "payloads", out.payloads);
        out.putFds(r, "fds");
        r.put("num", out.payloads.size());
        r.put("compress", false);
        out.send(peer, r);
    }

    private void dropBuffer(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        boolean existed = ctx.locked(() -> blobs().delete(id, peer.holdings().blobs(), false));
        if (!existed) {
            throw new VineyardException.ObjectNotExists("drop_buffer: blob " + ObjectIds.toText(id) + " does not exist");
        }
        peer.send(Replies.reply("drop_buffer_reply"));
    }

    private void shrinkBuffer(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        long size = Fields.u64(req, "size");
        ctx.lockedRun(() -> {
            blobs().shrink(id, size);
        });
        peer.send(Replies.reply("shrink_buffer_reply"));
    }

    private void release(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "object_id");
        ctx.lockedRun(() -> {
            blobs().release(id, peer.holdings().blobs());
        });
        peer.send(Replies.reply("release_reply"));
    }

    private void increaseReferenceCount(Peer peer, ObjectNode req) {
        long[] ids = Fields.idArray(req, "ids");
        ctx.lockedRun(() -> {
            blobs().increaseReferenceCount(ids, peer.holdings().blobs());
        });
        peer.send(Replies.reply("increase_reference_count_reply"));
    }
}
