package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.wire.FrameException;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobLinks;
import io.vineyard.server.store.BlobStore;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Blob bytes over TCP (spec 1.7): {@code create_remote_buffer(s)} uploads and {@code get_remote_buffers}
 * downloads, raw or as zstd streams cut into length-prefixed chunks.
 *
 * <pre>
 *   raw:        blob0 bytes | blob1 bytes | ...            (empty blobs skipped)
 *   compressed: per blob, one zstd frame sent as chunks:   [u64 len][len bytes] [u64 len][...] ...
 *               flushed, not ended; the reader decompresses chunks until it has the blob's bytes
 * </pre>
 *
 * Unlike vineyard, an upload's blobs are sealed only after all their bytes arrived, and a download
 * holds its blobs until the bytes are sent, so a concurrent delete cannot hand the memory to another
 * blob mid-transfer (#1927); afterwards it drops only the holds the transfer itself took.
 */
public final class RemoteTransferHandlers implements HandlerGroup {
    /** Uncompressed bytes fed to zstd per step, and the size of each compressed chunk at most. */
    private static final int CHUNK = 4 << 20;

    private final DaemonContext ctx;

    public RemoteTransferHandlers(DaemonContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.of(
                "create_remote_buffer_request", (p, r) -> createRemoteBuffers(p, r, false),
                "create_remote_buffers_request", (p, r) -> createRemoteBuffers(p, r, true),
                "get_remote_buffers_request", this::getRemoteBuffers);
    }

    private boolean compress(ObjectNode req) {
        return Fields.bool(req, "compress", false) && ctx.config().compression();
    }

    private void createRemoteBuffers(Peer conn, ObjectNode req, boolean plural) {
        long[] sizes = plural ? Fields.idArray(req, "sizes") : new long[] {Fields.u64(req, "size")};
        Fields.bool(req, "use_rdma", false);
        boolean compress = compress(req);
        BlobStore blobs = ctx.blobs();
        BlobLinks links = conn.holdings().blobs();
        List<Blob> made = ctx.spiller().allocating(BlobHandlers.total(sizes), () -> ctx.locked(() -> blobs.createAll(sizes, links)));
        ObjectNode ack = describeCreated(made, plural);
        conn.send(ack);
        try {
            for (Blob blob : made) {
                if (blob.size() > 0) {
                    MemorySegment target = blobs.bytes(blob);
                    if (compress) {
                        receiveCompressed(conn, target);
                    } else {
                        conn.socket().readSegment(target);
                    }
                }
            }
        } catch (RuntimeException e) {
            ctx.lockedRun(() -> {
                for (Blob blob : made) {
                    blobs.delete(blob.id(), links, false);
                }
            });
            throw e;
        }
        ctx.lockedRun(() -> {
            blobs.sealAll(made);
            blobs.releaseAll(made, links); // an RPC client maps nothing: sealed, the blobs are nobody's (and may spill)
        });
        conn.send(ack);
    }

    private ObjectNode describeCreated(List<Blob> made, boolean plural) {
        BlobStore blobs = ctx.blobs();
        List<ObjectNode> payloads = ctx.locked(() -> {
            List<ObjectNode> out = new ArrayList<>();
            for (Blob blob : made) {
                // reported sealed, as vineyard does; the daemon seals it once the bytes are in
                out.add(Replies.payload(blobs.location(blob)).put("is_sealed", true));
            }
            return out;
        });
        if (!plural) {
            ObjectNode r = Replies.reply("create_buffer_reply");
            r.set("id", Json.u64(made.get(0).id()));
            r.set("created", payloads.get(0));
            r.put("fd", -1);
            return r;
        }
        ObjectNode r = Replies.reply("create_buffers_reply");
        r.put("num", made.size());
        ArrayNode ids = r.putArray("ids");
        made.forEach(b -> ids.add(Json.u64(b.id())));
        r.putArray("fds");
        Fields.putLegacyList(r, "payloads", payloads);
        return r;
    }

    private void getRemoteBuffers(Peer conn, ObjectNode req) {
        long[] ids = Fields.legacyIds(req, "ids");
        boolean unsafe = Fields.bool(req, "unsafe", false);
        Fields.bool(req, "use_rdma", false);
        boolean compress = compress(req);
        BlobStore blobs = ctx.blobs();
        BlobLinks links = conn.holdings().blobs();
        List<ObjectNode> payloads = new ArrayList<>();
        List<Blob> taken = new ArrayList<>();
        List<Blob> held = ctx.spiller().resident(links, taken, () -> ctx.locked(() -> {
            List<Blob> got = blobs.get(ids, unsafe, links, taken);
            for (Blob b : got) {
                if (b.size() > 0 && b.isDisk()) {
                    blobs.releaseAll(taken, links);
                    throw new VineyardException.Invalid("get_remote_buffers: blob " + ObjectIds.toText(b.id())
                            + " is disk-backed and cannot be sent over RPC");
                }
                payloads.add(Replies.payload(blobs.location(b)));
            }
            return got;
        }));
        try {
            ObjectNode r = Replies.reply("get_buffers_reply");
            Fields.putLegacyList(r, "payloads", payloads);
            r.putArray("fds");
            r.put("num", payloads.size());
            r.put("compress", compress);
            conn.send(r);
            for (Blob blob : held) {
                if (blob.size() > 0) {
                    MemorySegment source = blobs.bytes(blob);
                    if (compress) {
                        sendCompressed(conn, source);
                    } else {
                        conn.socket().writeSegment(source);
                    }
                }
            }
        } finally {
            ctx.lockedRun(() -> {
                blobs.releaseAll(taken, links);
            });
        }
    }

    private static void receiveCompressed(Peer conn, MemorySegment target) {
        try (ZstdDecompressCtx ctx = new ZstdDecompressCtx()) {
            // vineyard's sender flushes but never ends its zstd frame: a blob is complete when its
            // bytes are. Decompressing through a staging buffer catches a stream longer than the blob.
            ByteBuffer out = ByteBuffer.allocateDirect(CHUNK);
            MemorySegment outSeg = MemorySegment.ofBuffer(out);
            ByteBuffer src = ByteBuffer.allocateDirect(0);
            long written = 0;
            long size = target.byteSize();
            while (written < size) {
                byte[] chunk = conn.socket().readFrame();
                if (chunk == null) {
                    throw new FrameException("connection closed after " + written + " of " + size + " blob bytes");
                }
                if (src.capacity() < chunk.length) {
                    src = ByteBuffer.allocateDirect(Math.max(chunk.length, CHUNK));
                }
                src.clear();
                src.put(chunk).flip();
                boolean outFull;
                do {
                    out.clear();
                    ctx.decompressDirectByteBufferStream(out, src);
                    int n = out.position();
                    if (written + n > size) {
                        throw new FrameException("compressed data is longer than the blob's " + size + " bytes");
                    }
                    MemorySegment.copy(outSeg, 0, target, written, n);
                    written += n;
                    outFull = !out.hasRemaining();
                } while (src.hasRemaining() || outFull && written < size);
            }
        } catch (com.github.luben.zstd.ZstdException e) {
            throw new FrameException("corrupt zstd data for a remote blob: " + e.getMessage());
        }
    }

    private static void sendCompressed(Peer conn, MemorySegment source) {
        try (ZstdCompressCtx ctx = new ZstdCompressCtx()) {
            ctx.setLevel(1);
            ByteBuffer out = ByteBuffer.allocateDirect(CHUNK);
            MemorySegment outSeg = MemorySegment.ofBuffer(out);
            long off = 0;
            long size = source.byteSize();
            while (true) {
                long n = Math.min(CHUNK, size - off);
                ByteBuffer src = source.asSlice(off, n).asByteBuffer();
                boolean last = off + n == size;
                boolean flushed;
                do {
                    // flush, never end the frame: the reader stops at the blob's size (vineyard's framing)
                    flushed = ctx.compressDirectByteBufferStream(out, src, last ? EndDirective.FLUSH : EndDirective.CONTINUE);
                    if (out.position() > 0 && (!out.hasRemaining() || flushed && !src.hasRemaining())) {
                        conn.socket().writeFrame(outSeg.asSlice(0, out.position()));
                        out.clear();
                    }
                } while (src.hasRemaining() || last && !flushed);
                off += n;
                if (last) {
                    if (out.position() > 0) {
                        conn.socket().writeFrame(outSeg.asSlice(0, out.position()));
                    }
                    return;
                }
            }
        }
    }
}
