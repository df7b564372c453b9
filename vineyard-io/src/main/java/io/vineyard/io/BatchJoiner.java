package io.vineyard.io;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BaseLargeVariableWidthVector;
import org.apache.arrow.vector.BaseVariableWidthVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.NullVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Joins a scan's decoded batches into fewer, larger ones, each built in one allocation per buffer of the
 * given allocator (a {@link io.vineyard.arrow.PoolAllocator}'s: blobs in the daemon's pool, so the put that
 * follows only seals them).
 *
 * <p>Why. Arrow's Parquet reader hands out batches of a few tens of thousands of rows whatever the
 * scan's batch size (10M rows came as about 270 batches), and one vineyard blob per buffer per batch
 * cost a create request each: measured, the creates took 5-8 times as long as copying the bytes. Joined
 * into batches of about {@code targetRows} rows (never more than {@link #MAX_GROUP_BYTES} of buffers, so
 * 32-bit string offsets never overflow), a 10M-row file is about ten batches again, one copy each.
 *
 * <p>Ownership. {@link #add} keeps a reference to each column's buffers (Arrow C++'s memory) until the
 * group is joined; {@link #join} returns a root whose buffers are the caller's, and releases the kept
 * ones; {@link #close} releases whatever is still kept. One thread at a time.
 */
final class BatchJoiner implements AutoCloseable {
    /** A joined batch holds at most this many bytes of buffers (and so of 32-bit-offset string data). */
    static final long MAX_GROUP_BYTES = 256L << 20;

    private final long targetRows;
    private final List<List<Piece>> pending = new ArrayList<>();
    private Schema schema;
    private long rows;
    private long bytes;

    /** One column of one kept batch: its value and null counts and its retained buffers. */
    private record Piece(int length, int nullCount, ArrowBuf validity, ArrowBuf offsets, ArrowBuf data) {
        void release() {
            for (ArrowBuf b : new ArrowBuf[] {validity, offsets, data}) {
                if (b != null) {
                    b.getReferenceManager().release();
                }
            }
        }
    }

    BatchJoiner(long targetRows) {
        this.targetRows = Math.max(1, Math.min(targetRows, Integer.MAX_VALUE / 2));
    }

    /**
     * True when the batch now in {@code root} can join the kept ones without passing
     * {@link #MAX_GROUP_BYTES}; when false, join the kept ones first.
     */
    boolean fits(VectorSchemaRoot root) {
        if (pending.isEmpty()) {
            return true;
        }
        long more = 0;
        for (FieldVector v : root.getFieldVectors()) {
            more += v.getBufferSize();
        }
        return bytes + more <= MAX_GROUP_BYTES;
    }

    /**
     * True when every column of {@code schema} is one this class joins: fixed width (numbers, dates, times,
     * decimals, booleans), variable width (strings, binaries, large ones too) or null; nested ones are not.
     */
    static boolean joins(VectorSchemaRoot root) {
        for (FieldVector v : root.getFieldVectors()) {
            boolean flat = v instanceof BaseFixedWidthVector || v instanceof BaseVariableWidthVector
                    || v instanceof BaseLargeVariableWidthVector || v instanceof NullVector;
            if (!flat || !v.getChildrenFromFields().isEmpty() || v.getField().getDictionary() != null) {
                return false;
            }
        }
        return true;
    }

    /** Keeps the batch now in {@code root} (its buffers retained); true when the group is full and should be joined. */
    boolean add(VectorSchemaRoot root) {
        if (schema == null) {
            schema = root.getSchema();
        }
        List<Piece> batch = new ArrayList<>();
        try {
            for (FieldVector v : root.getFieldVectors()) {
                Piece p = piece(v);
                batch.add(p);
                bytes += size(p.validity()) + size(p.offsets()) + dataBytes(v, p);
            }
        } catch (RuntimeException e) {
            batch.forEach(Piece::release);
            throw e;
        }
        pending.add(batch);
        rows += root.getRowCount();
        return rows >= targetRows || bytes >= MAX_GROUP_BYTES;
    }

    /** True when batches are kept, not joined yet. */
    boolean hasPending() {
        return !pending.isEmpty();
    }

    /**
     * The kept batches as one root whose buffers are new allocations of {@code allocator}, each filled
     * with one copy; the kept buffers are released. The caller closes the root.
     */
    VectorSchemaRoot join(BufferAllocator allocator) {
        List<FieldVector> vectors = new ArrayList<>();
        try {
            List<Field> fields = schema.getFields();
            for (int c = 0; c < fields.size(); c++) {
                List<Piece> column = new ArrayList<>(pending.size());
                for (List<Piece> batch : pending) {
                    column.add(batch.get(c));
                }
                FieldVector v = fields.get(c).createVector(allocator);
                vectors.add(v);
                fill(v, column, allocator);
            }
            return new VectorSchemaRoot(fields, vectors, Math.toIntExact(rows));
        } catch (RuntimeException e) {
            vectors.forEach(FieldVector::close);
            throw e;
        } finally {
            close();
        }
    }

    /** Releases the kept buffers. */
    @Override
    public void close() {
        pending.forEach(batch -> batch.forEach(Piece::release));
        pending.clear();
        rows = 0;
        bytes = 0;
    }

    private static Piece piece(FieldVector v) {
        int n = v.getValueCount();
        return switch (v) {
            case NullVector x -> new Piece(n, n, null, null, null);
            case BaseVariableWidthVector w -> new Piece(n, w.getNullCount(), retain(w.getValidityBuffer()), retain(w.getOffsetBuffer()), retain(w.getDataBuffer()));
            case BaseLargeVariableWidthVector w -> new Piece(n, w.getNullCount(), retain(w.getValidityBuffer()), retain(w.getOffsetBuffer()), retain(w.getDataBuffer()));
            case BaseFixedWidthVector f -> new Piece(n, f.getNullCount(), retain(f.getValidityBuffer()), null, retain(f.getDataBuffer()));
            default -> throw new IllegalArgumentException("cannot join a " + v.getField().getType() + " column");
        };
    }

    private static ArrowBuf retain(ArrowBuf b) {
        b.getReferenceManager().retain();
        return b;
    }

    private static long size(ArrowBuf b) {
        return b == null ? 0 : b.capacity();
    }

    private static long dataBytes(FieldVector v, Piece p) {
        return switch (v) {
            case BaseVariableWidthVector w -> p.length() == 0 ? 0 : segment(p.offsets()).getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, p.length())
                    - segment(p.offsets()).getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, 0);
            case BaseLargeVariableWidthVector w -> p.length() == 0 ? 0 : segment(p.offsets()).getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, p.length())
                    - segment(p.offsets()).getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            default -> size(p.data());
        };
    }

    private void fill(FieldVector v, List<Piece> column, BufferAllocator allocator) {
        long nulls = column.stream().mapToLong(Piece::nullCount).sum();
        ArrowFieldNode node = new ArrowFieldNode(rows, nulls);
        if (v instanceof NullVector nv) {
            nv.setValueCount(Math.toIntExact(rows));
            return;
        }
        List<ArrowBuf> buffers = new ArrayList<>(3);
        try {
            // all valid or all null: Arrow makes the bitmap itself (loadValidityBuffer ignores the one given)
            buffers.add(nulls == 0 || nulls == rows ? allocator.getEmpty() : joinBits(column, Piece::validity, allocator));
            switch (v) {
                case BaseVariableWidthVector w -> joinVariable(column, allocator, buffers, false);
                case BaseLargeVariableWidthVector w -> joinVariable(column, allocator, buffers, true);
                case BitVector b -> buffers.add(joinBits(column, Piece::data, allocator));
                case BaseFixedWidthVector f -> buffers.add(joinFixed(column, f.getTypeWidth(), allocator));
                default -> throw new IllegalArgumentException("cannot join a " + v.getField().getType() + " column");
            }
            v.loadFieldBuffers(node, buffers);
        } finally {
            buffers.forEach(ArrowBuf::close);
        }
    }

    private ArrowBuf joinFixed(List<Piece> column, int width, BufferAllocator allocator) {
        ArrowBuf out = allocator.buffer(Math.max(1, rows * width));
        MemorySegment dst = segment(out);
        long at = 0;
        for (Piece p : column) {
            long n = (long) p.length() * width;
            MemorySegment.copy(segment(p.data()), 0, dst, at, n);
            at += n;
        }
        return out;
    }

    /** Offsets rebased onto the joined data, then the data bytes each piece's offsets span, in order. */
    private void joinVariable(List<Piece> column, BufferAllocator allocator, List<ArrowBuf> buffers, boolean large) {
        ValueLayout.OfLong wideLayout = ValueLayout.JAVA_LONG_UNALIGNED;
        ValueLayout.OfInt narrowLayout = ValueLayout.JAVA_INT_UNALIGNED;
        int width = large ? 8 : 4;
        long dataBytes = 0;
        for (Piece p : column) {
            MemorySegment o = segment(p.offsets());
            dataBytes += p.length() == 0 ? 0 : large ? o.getAtIndex(wideLayout, p.length()) - o.getAtIndex(wideLayout, 0)
                    : o.getAtIndex(narrowLayout, p.length()) - o.getAtIndex(narrowLayout, 0);
        }
        ArrowBuf offsets = allocator.buffer((rows + 1) * width);
        buffers.add(offsets);
        ArrowBuf data = allocator.buffer(Math.max(1, dataBytes));
        buffers.add(data);
        MemorySegment dstOffsets = segment(offsets);
        MemorySegment dstData = segment(data);
        long row = 0;
        long base = 0;
        for (Piece p : column) {
            MemorySegment o = segment(p.offsets());
            long first = p.length() == 0 ? 0 : large ? o.getAtIndex(wideLayout, 0) : o.getAtIndex(narrowLayout, 0);
            for (int i = 0; i < p.length(); i++) {
                long at = base + (large ? o.getAtIndex(wideLayout, i) : o.getAtIndex(narrowLayout, i)) - first;
                if (large) {
                    dstOffsets.setAtIndex(wideLayout, row + i, at);
                } else {
                    dstOffsets.setAtIndex(narrowLayout, row + i, (int) at);
                }
            }
            long span = p.length() == 0 ? 0 : (large ? o.getAtIndex(wideLayout, p.length()) : o.getAtIndex(narrowLayout, p.length())) - first;
            MemorySegment.copy(segment(p.data()), first, dstData, base, span);
            row += p.length();
            base += span;
        }
        if (large) {
            dstOffsets.setAtIndex(wideLayout, row, base);
        } else {
            dstOffsets.setAtIndex(narrowLayout, row, (int) base);
        }
    }

    /** The pieces' bitmaps (validity, or a boolean column's values) one after the other, bit by bit. */
    private ArrowBuf joinBits(List<Piece> column, java.util.function.Function<Piece, ArrowBuf> bitsOf, BufferAllocator allocator) {
        long outBytes = (rows + 7) / 8;
        ArrowBuf out = allocator.buffer(Math.max(1, outBytes));
        MemorySegment dst = segment(out);
        dst.asSlice(0, Math.max(1, outBytes)).fill((byte) 0);
        long bit = 0;
        for (Piece p : column) {
            ArrowBuf src = bitsOf.apply(p);
            long n = p.length();
            long srcBytes = (n + 7) / 8;
            if (src == null || src.capacity() < srcBytes) {
                // no bitmap: all valid (ones) or all null (the zeros already there)
                for (long i = 0; i < n && p.nullCount() == 0; i++) {
                    long b = bit + i;
                    dst.set(ValueLayout.JAVA_BYTE, b >>> 3, (byte) (dst.get(ValueLayout.JAVA_BYTE, b >>> 3) | (1 << (b & 7))));
                }
            } else if ((bit & 7) == 0) {
                MemorySegment.copy(segment(src), 0, dst, bit >>> 3, srcBytes);
                if ((n & 7) != 0) {   // bits past the piece's end: cleared, the next piece ORs in its own
                    long last = (bit >>> 3) + srcBytes - 1;
                    dst.set(ValueLayout.JAVA_BYTE, last, (byte) (dst.get(ValueLayout.JAVA_BYTE, last) & ((1 << (n & 7)) - 1)));
                }
            } else {
                MemorySegment s = segment(src);
                int shift = (int) (bit & 7);
                long at = bit >>> 3;
                for (long i = 0; i < srcBytes; i++) {
                    int b = s.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
                    if (i == srcBytes - 1 && (n & 7) != 0) {
                        b &= (1 << (n & 7)) - 1;
                    }
                    dst.set(ValueLayout.JAVA_BYTE, at + i, (byte) (dst.get(ValueLayout.JAVA_BYTE, at + i) | (b << shift)));
                    if (at + i + 1 < outBytes) {
                        dst.set(ValueLayout.JAVA_BYTE, at + i + 1, (byte) (dst.get(ValueLayout.JAVA_BYTE, at + i + 1) | (b >>> (8 - shift))));
                    }
                }
            }
            bit += n;
        }
        return out;
    }

    private static MemorySegment segment(ArrowBuf b) {
        return MemorySegment.ofAddress(b.memoryAddress()).reinterpret(b.capacity());
    }
}
