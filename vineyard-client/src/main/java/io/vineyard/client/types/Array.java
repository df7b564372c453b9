package io.vineyard.client.types;

import io.vineyard.client.Hold;

import io.vineyard.client.Blob;

import java.lang.foreign.MemorySegment;

/**
 * A flat array, vineyard's {@code vineyard::Array<T>} ({@code size_}, {@code buffer_}), as C++ clients
 * write it. A got array views shared memory and holds its blob until {@link #close()}d.
 */
public final class Array implements AutoCloseable {
    private final DType dtype;
    private final long size;
    private final MemorySegment data;
    private final Blob blob;
    private final Hold hold;

    Array(DType dtype, long size, MemorySegment data, Blob blob, Hold hold) {
        this.dtype = dtype;
        this.size = size;
        this.data = data;
        this.blob = blob;
        this.hold = hold;
    }

    /** An array over {@code data} ({@code data.byteSize() / dtype.byteSize()} elements). */
    public static Array of(DType dtype, MemorySegment data) {
        return new Array(dtype, data.byteSize() / dtype.byteSize(), data, null, null);
    }

    /** An array of doubles. */
    public static Array of(double[] values) {
        return of(DType.DOUBLE, MemorySegment.ofArray(values));
    }

    /** An array of longs. */
    public static Array of(long[] values) {
        return of(DType.INT64, MemorySegment.ofArray(values));
    }

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    /** The number of elements. */
    public long size() {
        return size;
    }

    /** The bytes (read-only for a got array). */
    public MemorySegment data() {
        return data;
    }

    Blob blob() {
        return blob;
    }

    /** Element {@code i} as a double. */
    public double getDouble(long i) {
        return Tensor.of(dtype, data, Tensor.Order.C, size).getDouble(i);
    }

    /** Element {@code i} as a long. */
    public long getLong(long i) {
        return Tensor.of(dtype, data, Tensor.Order.C, size).getLong(i);
    }

    /** Releases the daemon's blob of a got array. */
    @Override
    public void close() {
        Hold.release(hold);
    }
}
