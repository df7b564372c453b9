package io.vineyard.client.types;

import io.vineyard.client.Hold;

import io.vineyard.client.Blob;
import io.vineyard.client.BlobWriter;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An n-dimensional array, vineyard's {@code vineyard::Tensor<T>}: element type, shape, C (row-major) or F
 * (column-major) order, and its bytes. A tensor got from vineyard views the shared memory (read-only, no
 * copy) and holds the daemon's blob until {@link #close()}d.
 *
 * <pre>{@code
 * Tensor t = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);      // copied into a blob when put
 * ObjectId copied = client.put(t);
 * BlobWriter w = client.createBlob(8L * n);                         // or written in place:
 * for (long i = 0; i < n; i++) w.segment().setAtIndex(ValueLayout.JAVA_DOUBLE, i, 1.0);
 * ObjectId inPlace = client.put(Tensor.of(DType.DOUBLE, w, Order.C, n));   // no copy
 * }</pre>
 */
public final class Tensor implements AutoCloseable {
    /** Memory order of the elements. */
    public enum Order {
        /** Row-major (C). */
        C,
        /** Column-major (Fortran). */
        F
    }

    private final DType dtype;
    private final long[] shape;
    private final Order order;
    private final MemorySegment data;
    private final long[] partitionIndex;
    private final Blob blob;
    private final BlobWriter writer;
    private final Hold hold;

    Tensor(DType dtype, long[] shape, Order order, MemorySegment data, long[] partitionIndex, Blob blob,
           BlobWriter writer, Hold hold) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.order = order;
        this.data = data;
        this.partitionIndex = partitionIndex.clone();
        this.blob = blob;
        this.writer = writer;
        this.hold = hold;
        long needed = elementCount() * dtype.byteSize();
        if (data != null && data.byteSize() < needed) {
            throw new VineyardException(Status.INVALID, "tensor of shape " + Arrays.toString(shape) + " and "
                    + dtype + " needs " + needed + " bytes, got " + data.byteSize());
        }
    }

    /** A tensor over {@code data} (copied into a blob when put). */
    public static Tensor of(DType dtype, MemorySegment data, Order order, long... shape) {
        return new Tensor(dtype, shape, order, data, new long[0], null, null, null);
    }

    /** A tensor over a blob being written: put seals the blob, no copy. */
    public static Tensor of(DType dtype, BlobWriter writer, Order order, long... shape) {
        return new Tensor(dtype, shape, order, writer.segment(), new long[0], null, writer, null);
    }

    /** A C-order double tensor over {@code values}; the shape defaults to one dimension. */
    public static Tensor of(double[] values, long... shape) {
        return of(DType.DOUBLE, MemorySegment.ofArray(values), Order.C, shapeOr(shape, values.length));
    }

    /** A C-order float tensor. */
    public static Tensor of(float[] values, long... shape) {
        return of(DType.FLOAT, MemorySegment.ofArray(values), Order.C, shapeOr(shape, values.length));
    }

    /** A C-order int64 tensor. */
    public static Tensor of(long[] values, long... shape) {
        return of(DType.INT64, MemorySegment.ofArray(values), Order.C, shapeOr(shape, values.length));
    }

    /** A C-order int32 tensor. */
    public static Tensor of(int[] values, long... shape) {
        return of(DType.INT32, MemorySegment.ofArray(values), Order.C, shapeOr(shape, values.length));
    }

    private static long[] shapeOr(long[] shape, long n) {
        return shape.length == 0 ? new long[] {n} : shape;
    }

    /** The same tensor with a partition index (for members of a GlobalTensor). */
    public Tensor withPartitionIndex(long... index) {
        return new Tensor(dtype, shape, order, data, index, blob, writer, null);
    }

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    /** The shape (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    /** The memory order. */
    public Order order() {
        return order;
    }

    /** The partition index ({@code partition_index_}), empty when none. */
    public long[] partitionIndex() {
        return partitionIndex.clone();
    }

    /** The bytes (read-only for a got tensor). */
    public MemorySegment data() {
        return data;
    }

    /** The blob behind a got tensor, or null. */
    public Blob blob() {
        return blob;
    }

    BlobWriter writer() {
        return writer;
    }

    /** The number of elements. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Element {@code i} in memory order, as a double (any element type). */
    public double getDouble(long i) {
        return switch (dtype) {
            case DOUBLE -> data.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
            case FLOAT -> data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            default -> getLong(i);
        };
    }

    /** Element {@code i} in memory order, as a long (integer types; unsigned 32-bit zero-extended). */
    public long getLong(long i) {
        return switch (dtype) {
            case INT32 -> data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
            case UINT32 -> Integer.toUnsignedLong(data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i));
            case INT64, UINT64 -> data.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
            case FLOAT, DOUBLE -> (long) getDouble(i);
        };
    }

    /** The element at an n-dimensional index, honouring the order. */
    public double getDouble(long[] index) {
        return getDouble(flatIndex(index));
    }

    private long flatIndex(long[] index) {
        if (index.length != shape.length) {
            throw new IndexOutOfBoundsException("index of rank " + index.length + " for a tensor of rank " + shape.length);
        }
        long flat = 0;
        if (order == Order.C) {
            for (int d = 0; d < shape.length; d++) {
                flat = flat * shape[d] + index[d];
            }
        } else {
            for (int d = shape.length - 1; d >= 0; d--) {
                flat = flat * shape[d] + index[d];
            }
        }
        return flat;
    }

    /** Releases the daemon's blob (a got tensor); the data view is then no longer guaranteed. */
    @Override
    public void close() {
        Hold.release(hold);
    }

    @Override
    public String toString() {
        return "Tensor<" + dtype.cppName() + ">" + Arrays.toString(shape) + " " + order;
    }
}
