package io.vineyard.arrow;

import io.vineyard.client.types.DType;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.ForeignAllocation;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;

import java.util.ArrayList;
import java.util.List;

/**
 * A got {@code vineyard::DataFrame} (pandas' layout: one numeric tensor per column) as an Arrow table of
 * one batch whose data buffers are the tensors' blobs (no copy). A tensor has no validity bitmap, so each
 * column gets an all-valid one ({@code rows/8} bytes, made, not copied). The caller closes the frame
 * after the table (the frame's holds keep the blobs). {@link #fromArrow} goes the other way: a root's
 * numeric columns as a frame to put, over the vectors' own pool blobs.
 */
public final class DataFrameArrow {
    private DataFrameArrow() {
    }

    /** The frame's columns as one batch over its blobs; close it before the frame. */
    public static ArrowTable toArrow(DataFrame frame, BufferAllocator allocator) {
        int rows = Math.toIntExact(frame.rowCount());
        List<FieldVector> vectors = new ArrayList<>();
        try {
            List<Field> fields = schemaOf(frame).getFields();
            for (int c = 0; c < frame.columns().size(); c++) {
                Tensor t = frame.columns().get(c);
                FieldVector v = fields.get(c).createVector(allocator);
                vectors.add(v);
                long bytes = (long) rows * t.dtype().byteSize();
                ArrowBuf validity = allocator.buffer((rows + 7) / 8);
                ArrowBuf data = bytes == 0 ? allocator.getEmpty()
                        : allocator.wrapForeignAllocation(new ForeignAllocation(bytes, t.data().address()) {
                            @Override
                            protected void release0() {
                                // the frame's hold, released with the table
                            }
                        });
                try {
                    validity.setOne(0, validity.capacity());
                    v.loadFieldBuffers(new ArrowFieldNode(rows, 0), List.of(validity, data));
                } finally {
                    validity.close();
                    data.close();
                }
            }
        } catch (RuntimeException e) {
            vectors.forEach(FieldVector::close);
            throw e;
        }
        VectorSchemaRoot root = new VectorSchemaRoot(vectors.stream().map(FieldVector::getField).toList(), vectors, rows);
        return ArrowTable.of(root);
    }

    /**
     * A root's columns as a {@code vineyard::DataFrame} to put: each column a one-dimensional tensor over
     * the vector's data buffer, in place when that buffer is the start of a {@link PoolAllocator} blob
     * (the put seals it, no copy; the blob may be longer than the column: the bitmap Arrow allocates after
     * the data, unused capacity; readers read by shape), copied at put otherwise. The root must stay open
     * until the put.
     *
     * @throws VineyardException {@code TYPE_ERROR} for a column that is not int32, int64, float or double,
     *                           or that holds nulls (a tensor has no validity bitmap)
     */
    public static DataFrame fromArrow(VectorSchemaRoot root) {
        int rows = root.getRowCount();
        List<String> names = new ArrayList<>();
        List<Tensor> columns = new ArrayList<>();
        for (FieldVector v : root.getFieldVectors()) {
            String name = v.getField().getName();
            DType dtype = dtypeOf(v.getField().getType(), name);
            if (v.getNullCount() > 0) {
                throw new VineyardException(Status.TYPE_ERROR, "column '" + name + "' holds " + v.getNullCount()
                        + " nulls: a vineyard::DataFrame's columns are tensors, which have no nulls");
            }
            long bytes = (long) rows * dtype.byteSize();
            ArrowBuf data = v.getDataBuffer();
            io.vineyard.client.BlobWriter inPool = bytes == 0 ? null : PoolAllocator.blobAt(data);
            names.add(name);
            columns.add(inPool != null && inPool.size() >= bytes ? Tensor.of(dtype, inPool, Tensor.Order.C, rows)
                    : Tensor.of(dtype, bytes == 0 ? java.lang.foreign.MemorySegment.NULL
                            : java.lang.foreign.MemorySegment.ofAddress(data.memoryAddress()).reinterpret(bytes), Tensor.Order.C, rows));
        }
        return new DataFrame(names, columns, null);
    }

    /** The tensor element type of an Arrow column type a DataFrame can hold. */
    public static DType dtypeOf(ArrowType type, String column) {
        if (type instanceof ArrowType.Int i && i.getIsSigned() && (i.getBitWidth() == 32 || i.getBitWidth() == 64)) {
            return i.getBitWidth() == 32 ? DType.INT32 : DType.INT64;
        }
        if (type instanceof ArrowType.FloatingPoint f && f.getPrecision() != FloatingPointPrecision.HALF) {
            return f.getPrecision() == FloatingPointPrecision.SINGLE ? DType.FLOAT : DType.DOUBLE;
        }
        throw new VineyardException(Status.TYPE_ERROR, "column '" + column + "' is " + type
                + ": a vineyard::DataFrame holds int32, int64, float and double columns (tensors)");
    }

    /** The Arrow schema {@link #toArrow} gives the frame. */
    public static org.apache.arrow.vector.types.pojo.Schema schemaOf(DataFrame frame) {
        List<Field> fields = new ArrayList<>();
        for (int c = 0; c < frame.columns().size(); c++) {
            String name = frame.columnNames().get(c);
            fields.add(new Field(name, FieldType.notNullable(arrowType(frame.columns().get(c), name)), null));
        }
        return new org.apache.arrow.vector.types.pojo.Schema(fields);
    }

    private static ArrowType arrowType(Tensor t, String column) {
        if (t.shape().length != 1) {
            throw new VineyardException(Status.TYPE_ERROR, "DataFrame column '" + column + "' is a tensor of shape "
                    + java.util.Arrays.toString(t.shape()) + ": SQL needs one-dimensional columns");
        }
        return switch (t.dtype()) {
            case INT32 -> new ArrowType.Int(32, true);
            case INT64 -> new ArrowType.Int(64, true);
            case UINT32 -> new ArrowType.Int(32, false);
            case UINT64 -> new ArrowType.Int(64, false);
            case FLOAT -> new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
            case DOUBLE -> new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
        };
    }
}
