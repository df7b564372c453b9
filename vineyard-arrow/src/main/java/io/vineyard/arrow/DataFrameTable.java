package io.vineyard.arrow;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.ResolveContext;
import io.vineyard.client.registry.VineyardType;
import io.vineyard.client.types.DataFrame;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code vineyard::DataFrame} (pandas' layout, as vineyard's Python client and ours write it) read as an
 * {@link ArrowTable} of one batch, for SQL engines: {@code client.get(id, ArrowTable.class, allocator)}.
 * Every column type pandas stores, not only the numeric ones {@link DataFrameArrow} maps:
 * <ul>
 *   <li>{@code Tensor<int8_t|int16_t|int|int64|uint8_t|uint16_t|uint|uint64|float|double>}: the tensor's
 *       blob is the Arrow data buffer (no copy), with an all-valid bitmap made for it ({@code rows/8} bytes);</li>
 *   <li>{@code Tensor<std::string>} (an object column of str/None): its {@code buffer_} is a
 *       {@code vineyard::LargeStringArray}, read as a nullable {@code LargeUtf8} vector over its blobs (no copy);</li>
 *   <li>{@code Tensor<bool>}: numpy's one byte per value becomes Arrow's bitmap, a copy of {@code rows/8} bytes.</li>
 * </ul>
 * Only asked for by Java type: an untyped get of a DataFrame still gives the SDK's {@code DataFrame}.
 */
public final class DataFrameTable implements VineyardType<ArrowTable> {
    /** Service constructor. */
    public DataFrameTable() {
    }

    @Override
    public Class<ArrowTable> javaType() {
        return ArrowTable.class;
    }

    @Override
    public List<String> typenamePrefixes() {
        return List.of("vineyard::DataFrame");
    }

    @Override
    public boolean resolvesUntypedGets() {
        return false;
    }

    @Override
    public ArrowTable resolve(ResolveContext ctx, ObjectMeta m) {
        DataFrame.Columns layout = DataFrame.Columns.of(m);
        BufferAllocator allocator = ArrowTypes.allocator(ctx);
        List<FieldVector> vectors = new ArrayList<>();
        long rows = -1;
        try {
            for (int c = 0; c < layout.names().size(); c++) {
                String name = layout.names().get(c);
                FieldVector v = column(ctx, allocator, name, layout.value(m, c));
                vectors.add(v);
                if (rows >= 0 && v.getValueCount() != rows) {
                    throw new VineyardException(Status.META_TREE_INVALID, "get " + m.what() + ": column '" + name + "' has "
                            + v.getValueCount() + " rows, the columns before it " + rows);
                }
                rows = v.getValueCount();
            }
        } catch (RuntimeException e) {
            vectors.forEach(FieldVector::close);
            throw e;
        }
        List<Field> fields = vectors.stream().map(FieldVector::getField).toList();
        VectorSchemaRoot root = new VectorSchemaRoot(fields, vectors, (int) Math.max(0, rows));
        return new ArrowTable(new Schema(fields), List.of(root));
    }

    private static FieldVector column(ResolveContext ctx, BufferAllocator allocator, String name, ObjectMeta tensor) {
        String typename = tensor.typename();
        String element = typename.contains("<") ? typename.substring(typename.indexOf('<') + 1, typename.lastIndexOf('>')) : "";
        JsonNode shape = tensor.getJson("shape_");
        if (shape == null || !shape.isArray() || shape.size() != 1) {
            throw new VineyardException(Status.TYPE_ERROR, "DataFrame column '" + name + "' is a " + typename + " of shape "
                    + shape + ": SQL needs one-dimensional columns");
        }
        long rows = shape.get(0).asLong();
        if (element.equals("std::string") || "string".equals(tensor.getString("value_type_"))) {
            ObjectMeta strings = tensor.member("buffer_");
            return ArrowTypes.readArray(ctx, new Field(name, FieldType.nullable(ArrowType.LargeUtf8.INSTANCE), null), strings);
        }
        ObjectMeta blob = tensor.member("buffer_");
        if (element.equals("bool")) {
            return booleans(ctx, allocator, name, blob, rows);
        }
        ArrowType type = switch (element) {
            case "int8_t", "int8" -> new ArrowType.Int(8, true);
            case "int16_t", "int16" -> new ArrowType.Int(16, true);
            case "int", "int32", "int32_t" -> new ArrowType.Int(32, true);
            case "int64", "int64_t" -> new ArrowType.Int(64, true);
            case "uint8_t", "uint8" -> new ArrowType.Int(8, false);
            case "uint16_t", "uint16" -> new ArrowType.Int(16, false);
            case "uint", "uint32", "uint32_t" -> new ArrowType.Int(32, false);
            case "uint64", "uint64_t" -> new ArrowType.Int(64, false);
            case "float", "float32" -> new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
            case "double", "float64" -> new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
            default -> throw new VineyardException(Status.TYPE_ERROR, "DataFrame column '" + name + "' is a " + typename
                    + ": no Arrow type for its elements (supported: integers, float, double, bool and str)");
        };
        int width = type instanceof ArrowType.Int i ? i.getBitWidth() / 8
                : ((ArrowType.FloatingPoint) type).getPrecision() == FloatingPointPrecision.SINGLE ? 4 : 8;
        FieldVector v = new Field(name, FieldType.notNullable(type), null).createVector(allocator);
        try {
            ArrowBuf validity = allValid(allocator, rows);
            ArrowBuf data = ArrowTypes.wrapBlob(ctx, allocator, blob);
            try {
                if (data.capacity() < rows * width) {
                    throw new VineyardException(Status.META_TREE_INVALID, "DataFrame column '" + name + "': a blob of "
                            + data.capacity() + " bytes for " + rows + " rows of " + element);
                }
                v.loadFieldBuffers(new ArrowFieldNode(rows, 0), List.of(validity, data));
            } finally {
                validity.close();
                data.close();
            }
            return v;
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
    }

    private static ArrowBuf allValid(BufferAllocator allocator, long rows) {
        ArrowBuf validity = allocator.buffer(Math.max(1, (rows + 7) / 8));
        validity.setOne(0, validity.capacity());
        return validity;
    }

    /** numpy's bool (a byte per value) as Arrow's bitmap: a copy (Arrow has no byte booleans). */
    private static FieldVector booleans(ResolveContext ctx, BufferAllocator allocator, String name, ObjectMeta blob, long rows) {
        var bytes = ctx.blob(blob).segment();
        if (bytes.byteSize() < rows) {
            throw new VineyardException(Status.META_TREE_INVALID, "DataFrame column '" + name + "': a blob of "
                    + bytes.byteSize() + " bytes for " + rows + " booleans");
        }
        BitVector v = new BitVector(new Field(name, FieldType.notNullable(ArrowType.Bool.INSTANCE), null), allocator);
        try {
            v.allocateNew(Math.toIntExact(rows));
            ArrowBuf data = v.getDataBuffer();
            for (long i = 0; i < rows; i++) {
                if (bytes.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != 0) {
                    BitVectorHelper.setBit(data, i);
                }
            }
            v.getValidityBuffer().setOne(0, v.getValidityBuffer().capacity());
            v.setValueCount(Math.toIntExact(rows));
            return v;
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
    }
}
