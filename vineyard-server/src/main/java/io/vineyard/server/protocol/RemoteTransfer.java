package io.vineyard.server.protocol;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;
import io.vineyard.common.wire.FrameException;
import io.vineyard.server.VineyardServer;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobStore;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

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
 * blob mid-transfer (#1927).
 */
final class RemoteTransfer {
    /** Uncompressed bytes fed to zstd per step, and the size of each compressed chunk at most. */
    private static final int CHUNK = 4 << 20;

    private final VineyardServer server;

    RemoteTransfer(VineyardServer server) {
        this.server = server;
    }

    private boolean compress(ObjectNode req) {
        return Fields.bool(req, "compress", false) && server.config().compression();
    }

    void createRemoteBuffers(ClientConnection conn, ObjectNode req, boolean plural) {
        long[] sizes = plural ? Fields.idArray(req, "sizes") : new long[] {Fields.u64(req, "size")};
        Fields.bool(req, "use_rdma", false);
        boolean compress = compress(req);
        BlobStore blobs = server.blobs();
        List<Blob> made = server.locked(() -> blobs.createAll(sizes, conn.client()));
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
            server.locked(() -> {
                for (Blob blob : made) {
                    blobs.delete(blob.id(), conn.client(), false);
                }
                return null;
            });
            throw e;
        }
        server.locked(() -> {
            blobs.sealAll(made);
            return null;
        });
        conn.send(ack);
    }

    private ObjectNode describeCreated(List<Blob> made, boolean plural) {
        BlobStore blobs = server.blobs();
        List<ObjectNode> payloads = server.locked(() -> {
            List<ObjectNode> out = new ArrayList<>();
            for (Blob blob : made) {
                // reported sealed, as vineyard does; the daemon seals it once the bytes are in
                out.add(blobs.payload(blob).put("is_sealed", true));
            }
            return out;
        });
        if (!plural) {
            ObjectNode r = RequestDispatcher.reply("create_buffer_reply");
            r.set("id", Json.u64(made.get(0).id()));
            r.set("created", payloads.get(0));
            r.put("fd", -1);
            return r;
        }
        ObjectNode r = RequestDispatcher.reply("create_buffers_reply");
        r.put("num", made.size());
        ArrayNode ids = r.putArray("ids");
        made.forEach(b -> ids.add(Json.u64(b.id())));
        r.putArray("fds");
        Fields.putLegacyList(r, "payloads", payloads);
        return r;
    }

    void getRemoteBuffers(ClientConnection conn, ObjectNode req) {
        long[] ids = Fields.legacyIds(req, "ids");
        boolean unsafe = Fields.bool(req, "unsafe", false);
        Fields.bool(req, "use_rdma", false);
        boolean compress = compress(req);
        BlobStore blobs = server.blobs();
        List<ObjectNode> payloads = new ArrayList<>();
        List<Blob> held = server.locked(() -> {
            List<Blob> got = blobs.get(ids, unsafe, conn.client());
            for (Blob b : got) {
                if (b.size() > 0 && blobs.fdOf(b) != blobs.storeFd()) {
                    blobs.releaseAll(got, conn.client());
                    throw new VineyardException.Invalid("get_remote_buffers: blob " + io.vineyard.common.ObjectIds.toText(b.id())
                            + " is disk-backed and cannot be sent over RPC");
                }
                payloads.add(blobs.payload(b));
            }
            return got;
        });
        try {
            ObjectNode r = RequestDispatcher.reply("get_buffers_reply");
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
            server.locked(() -> {
                blobs.releaseAll(held, conn.client());
                return null;
            });
        }
    }

    private static void receiveCompressed(ClientConnection conn, MemorySegment target) {
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

    private static void sendCompressed(ClientConnection conn, MemorySegment source) {
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
