package io.vineyard.bench;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Locale;

/**
 * The pipeline benchmark's table, the one of shared/notes/pipeline-baselines.md: {@code i64} int64
 * {@code mix(3i)}, {@code f64} float64 {@code (mix(3i+1)>>>11)·2^-53}, {@code s} utf8 null when
 * {@code (mix(3i+2)>>>32) % 10 == 0}, else 8-24 letters of a 32-letter alphabet (mix = splitmix64), and
 * the consumer's work on it: the wrapping sum of {@code i64}, the sum of {@code f64} (4 accumulators)
 * and the count of non-null {@code s} from its validity bitmap.
 */
final class PipelineTable {
    /** Rows of the 1 GiB table (1,073,703,978 bytes of Arrow buffers). */
    static final int GIB_ROWS = 31_100_000;
    private static final byte[] ALPHABET = "abcdefghijklmnopqrstuvwxyz012345".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private PipelineTable() {
    }

    static long mix(long x) {
        x += 0x9E3779B97F4A7C15L;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    private static boolean isNull(long h) {
        return Long.remainderUnsigned(h >>> 32, 10) == 0;
    }

    private static int length(long h) {
        return 8 + (int) ((h >>> 8) % 17);
    }

    /** Builds {@code rows} rows with {@code allocator}'s memory, each buffer allocated once at its exact size. */
    static VectorSchemaRoot build(BufferAllocator allocator, int rows) {
        return build(allocator, 0, rows);
    }

    /** Rows {@code first .. first + rows - 1} of the table (a part of it: the parts of a split add up to the whole). */
    static VectorSchemaRoot build(BufferAllocator allocator, long first, int rows) {
        long dataBytes = 0;
        for (int i = 0; i < rows; i++) {
            long h = mix(3L * (first + i) + 2);
            dataBytes += isNull(h) ? 0 : length(h);
        }
        BigIntVector i64 = new BigIntVector("i64", allocator);
        Float8Vector f64 = new Float8Vector("f64", allocator);
        VarCharVector s = new VarCharVector("s", allocator);
        try {
            i64.allocateNew(rows);
            f64.allocateNew(rows);
            s.allocateNew(Math.max(1, dataBytes), rows);
            ArrowBuf data = s.getDataBuffer();
            ArrowBuf offsets = s.getOffsetBuffer();
            ArrowBuf validity = s.getValidityBuffer();
            int off = 0;
            offsets.setInt(0, 0);
            for (int i = 0; i < rows; i++) {
                long g = first + i;
                i64.set(i, mix(3L * g));
                f64.set(i, (mix(3L * g + 1) >>> 11) * 0x1.0p-53);
                long h = mix(3L * g + 2);
                if (!isNull(h)) {
                    BitVectorHelper.setBit(validity, i);
                    int n = length(h);
                    for (int k = 0; k < n; k++) {
                        data.setByte(off + k, ALPHABET[(int) ((h >>> ((k * 5) % 60)) & 31)]);
                    }
                    off += n;
                }
                offsets.setInt(4L * (i + 1), off);
            }
            s.setLastSet(rows - 1);
            i64.setValueCount(rows);
            f64.setValueCount(rows);
            s.setValueCount(rows);
            VectorSchemaRoot root = new VectorSchemaRoot(List.of(i64, f64, s));
            root.setRowCount(rows);
            return root;
        } catch (RuntimeException e) {
            i64.close();
            f64.close();
            s.close();
            throw e;
        }
    }

    /** What a consumer computes; equal across every path of one size. */
    record Checksum(long rows, long sumI64, double sumF64, long nonNull) {
        String text() {
            return String.format(Locale.ROOT, "%d %d %.8f %d", rows, sumI64, sumF64, nonNull);
        }
    }

    private static MemorySegment bytes(ArrowBuf b, long n) {
        return MemorySegment.ofAddress(b.memoryAddress()).reinterpret(n);
    }

    static Checksum checksum(VectorSchemaRoot root) {
        int rows = root.getRowCount();
        MemorySegment i64 = bytes(root.getVector("i64").getDataBuffer(), 8L * rows);
        MemorySegment f64 = bytes(root.getVector("f64").getDataBuffer(), 8L * rows);
        long sum = 0;
        for (long i = 0; i < rows; i++) {
            sum += i64.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
        }
        double a0 = 0;
        double a1 = 0;
        double a2 = 0;
        double a3 = 0;
        long i = 0;
        for (; i + 4 <= rows; i += 4) {
            a0 += f64.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
            a1 += f64.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i + 1);
            a2 += f64.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i + 2);
            a3 += f64.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i + 3);
        }
        for (; i < rows; i++) {
            a0 += f64.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
        }
        MemorySegment valid = bytes(root.getVector("s").getValidityBuffer(), (rows + 7) / 8);
        long nonNull = 0;
        long words = rows / 64;
        for (long w = 0; w < words; w++) {
            nonNull += Long.bitCount(valid.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, w));
        }
        for (long r = words * 64; r < rows; r++) {
            nonNull += (valid.get(ValueLayout.JAVA_BYTE, r >>> 3) >>> (r & 7)) & 1;
        }
        return new Checksum(rows, sum, (a0 + a1) + (a2 + a3), nonNull);
    }
}
