package io.vineyard.arrow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.Blob;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.registry.ResolveContext;
import io.vineyard.client.registry.VineyardType;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.ForeignAllocation;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BaseLargeVariableWidthVector;
import org.apache.arrow.vector.BaseVariableWidthVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.NullVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.LargeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.List;

/**
 * Arrow Java values in vineyard, with vineyard's typenames and keys ({@code arrow.vineyard-mod}, and the
 * Python client's builders):
 *
 * <pre>
 *   NumericArray&lt;T&gt;, BooleanArray, FixedSizeBinaryArray  length_ null_count_ offset_ buffer_ null_bitmap_ [byte_width_]
 *   BaseBinaryArray&lt;arrow::(Large)StringArray|(Large)BinaryArray&gt;  ... buffer_offsets_ buffer_data_ null_bitmap_
 *   BaseListArray&lt;arrow::(Large)ListArray&gt;          ... buffer_offsets_ values_   FixedSizeListArray: list_size_ values_
 *   NullArray                                              length_
 *   SchemaProxy   schema_binary_ ({"bytes":[Arrow IPC schema message],"subtype":null} as JSON text), schema_textual_
 *   RecordBatch   row_num_ column_num_ __columns_-size __columns_-&lt;i&gt; schema_
 *   Table         num_rows_ num_columns_ batch_num_ partitions_-size partitions_-&lt;i&gt; schema_
 * </pre>
 *
 * Reading is zero-copy: every blob becomes an {@link ArrowBuf} through
 * {@link BufferAllocator#wrapForeignAllocation}, whose release drops a reference to the got object (and
 * pins the client's mapping), so Arrow's allocator accounting and leak checks cover vineyard's blobs.
 * Writing copies each buffer into a new blob, except buffers of a {@link PoolAllocator}, which are
 * blobs already and are put in place. Validity bitmaps are always written, so readers never need to make
 * one. Arrays with a non-zero {@code offset_} (slices written by other clients) are read in place too
 * (see {@link #load}); only a bitmap whose slice does not start on a byte is copied.
 */
public final class ArrowTypes {
    /** {@code type_name<vineyard::StringArray>()} in vineyard 0.24's C++. */
    public static final String STRING_ARRAY = "vineyard::BaseBinaryArray<arrow::StringArray>";
    /** {@code type_name<vineyard::LargeStringArray>()}. */
    public static final String LARGE_STRING_ARRAY = "vineyard::BaseBinaryArray<arrow::LargeStringArray>";
    /** {@code type_name<vineyard::ListArray>()}. */
    public static final String LIST_ARRAY = "vineyard::BaseListArray<arrow::ListArray>";
    /** {@code type_name<vineyard::LargeListArray>()}. */
    public static final String LARGE_LIST_ARRAY = "vineyard::BaseListArray<arrow::LargeListArray>";

    private ArrowTypes() {
    }

    private static volatile BufferAllocator defaultAllocator;

    /** The allocator used when a get passes none: a process-wide RootAllocator, never closed. */
    public static BufferAllocator defaultAllocator() {
        BufferAllocator a = defaultAllocator;
        if (a == null) {
            synchronized (ArrowTypes.class) {
                a = defaultAllocator;
                if (a == null) {
                    a = new RootAllocator();
                    defaultAllocator = a;
                }
            }
        }
        return a;
    }

    static BufferAllocator allocator(ResolveContext ctx) {
        BufferAllocator a = ctx.option(BufferAllocator.class);
        return a != null ? a : defaultAllocator();
    }

    // ---- writing ---------------------------------------------------------------------------------

    /** The blob member for {@code bytes} of {@code buf}: in place when it is a pool blob, else a copy. */
    private static ObjectMeta blob(BuildContext ctx, ArrowBuf buf, long bytes) {
        if (bytes == 0) {
            return ctx.blobOf(MemorySegment.NULL.reinterpret(0));
        }
        io.vineyard.client.BlobWriter inPool = PoolAllocator.blobAt(buf);
        if (inPool != null && bytes <= inPool.size()) {
            return ctx.build(inPool);
        }
        return ctx.blobOf(MemorySegment.ofAddress(buf.memoryAddress()).reinterpret(bytes));
    }

    private static long bitmapBytes(long n) {
        return (n + 7) / 8;
    }

    /**
     * What vineyard 0.24's {@code NumericArray} builders write as {@code data_type_} (Arrow's name of the
     * type: {@code int32}, {@code uint64}, {@code float}, {@code double}); null for other arrays.
     */
    static String numericDataType(ArrowType t) {
        return switch (t) {
            case ArrowType.Int i -> (i.getIsSigned() ? "" : "u") + "int" + i.getBitWidth();
            case ArrowType.FloatingPoint f -> f.getPrecision() == FloatingPointPrecision.SINGLE
                    ? "float" : "double";
            default -> null;
        };
    }

    /** The vineyard typename of an Arrow type. */
    static String typenameOf(ArrowType t) {
        return switch (t) {
            // C++ type_name spellings: int, int64, uint, uint64 (src/common/util/typename.h); 8/16-bit keep int8_t...
            case ArrowType.Int i -> "vineyard::NumericArray<" + (i.getIsSigned() ? "" : "u") + "int"
                    + (i.getBitWidth() == 32 ? "" : i.getBitWidth() == 64 ? "64" : i.getBitWidth() + "_t") + ">";
            case ArrowType.FloatingPoint f -> switch (f.getPrecision()) {
                case SINGLE -> "vineyard::NumericArray<float>";
                case DOUBLE -> "vineyard::NumericArray<double>";
                case HALF -> throw unsupported(t);
            };
            case ArrowType.Bool b -> "vineyard::BooleanArray";
            // C++ 0.24's type_name of its aliases StringArray, LargeStringArray, ListArray, LargeListArray
            // (the names its factory knows, and its builders write: shared/compat transcripts-wave2)
            case ArrowType.Utf8 u -> STRING_ARRAY;
            case ArrowType.LargeUtf8 u -> LARGE_STRING_ARRAY;
            case ArrowType.Binary b -> "vineyard::BaseBinaryArray<arrow::BinaryArray>";
            case ArrowType.LargeBinary b -> "vineyard::BaseBinaryArray<arrow::LargeBinaryArray>";
            case ArrowType.FixedSizeBinary b -> "vineyard::FixedSizeBinaryArray";
            case ArrowType.List l -> LIST_ARRAY;
            case ArrowType.LargeList l -> LARGE_LIST_ARRAY;
            case ArrowType.FixedSizeList l -> "vineyard::FixedSizeListArray";
            case ArrowType.Null n -> "vineyard::NullArray";
            default -> throw unsupported(t);
        };
    }

    private static VineyardException unsupported(ArrowType t) {
        return new VineyardException(Status.TYPE_ERROR, "arrow type " + t + " is not supported (numeric, bool, "
                + "(large) string/binary, fixed-size binary, (large/fixed-size) list, null)");
    }

    /** Describes one vector, copying its buffers into new blobs. */
    static ObjectMeta buildArray(BuildContext ctx, FieldVector v) {
        ArrowType type = v.getField().getType();
        ObjectMeta m = new ObjectMeta(typenameOf(type));
        int n = v.getValueCount();
        m.put("length_", (long) n);
        if (v instanceof NullVector) {
            m.setNbytes(0);
            return m;
        }
        m.put("null_count_", (long) v.getNullCount());
        m.put("offset_", 0L);
        String dataType = numericDataType(type);
        if (dataType != null) {
            m.put("data_type_", dataType);
        }
        long nbytes = 0;
        ObjectMeta validity = blob(ctx, v.getValidityBuffer(), bitmapBytes(n));
        nbytes += bitmapBytes(n);
        switch (v) {
            case BitVector b -> {
                m.addMember("buffer_", blob(ctx, b.getDataBuffer(), bitmapBytes(n)));
                nbytes += bitmapBytes(n);
            }
            case BaseFixedWidthVector f -> {
                long bytes = (long) n * f.getTypeWidth();
                m.addMember("buffer_", blob(ctx, f.getDataBuffer(), bytes));
                nbytes += bytes;
                if (type instanceof ArrowType.FixedSizeBinary fb) {
                    m.put("byte_width_", (long) fb.getByteWidth());
                }
            }
            case BaseVariableWidthVector w -> {
                long offsets = 4L * (n + 1);
                long data = n == 0 ? 0 : w.getOffsetBuffer().getInt(4L * n);
                m.addMember("buffer_offsets_", blob(ctx, w.getOffsetBuffer(), n == 0 ? 0 : offsets));
                m.addMember("buffer_data_", blob(ctx, w.getDataBuffer(), data));
                nbytes += offsets + data;
            }
            case BaseLargeVariableWidthVector w -> {
                long offsets = 8L * (n + 1);
                long data = n == 0 ? 0 : w.getOffsetBuffer().getLong(8L * n);
                m.addMember("buffer_offsets_", blob(ctx, w.getOffsetBuffer(), n == 0 ? 0 : offsets));
                m.addMember("buffer_data_", blob(ctx, w.getDataBuffer(), data));
                nbytes += offsets + data;
            }
            case ListVector l -> {
                long offsets = 4L * (n + 1);
                m.addMember("buffer_offsets_", blob(ctx, l.getOffsetBuffer(), n == 0 ? 0 : offsets));
                ObjectMeta values = buildArray(ctx, l.getDataVector());
                m.addMember("values_", values);
                nbytes += offsets + values.nbytes();
            }
            case LargeListVector l -> {
                long offsets = 8L * (n + 1);
                m.addMember("buffer_offsets_", blob(ctx, l.getOffsetBuffer(), n == 0 ? 0 : offsets));
                ObjectMeta values = buildArray(ctx, l.getDataVector());
                m.addMember("values_", values);
                nbytes += offsets + values.nbytes();
            }
            case FixedSizeListVector l -> {
                m.put("list_size_", (long) l.getListSize());
                ObjectMeta values = buildArray(ctx, l.getDataVector());
                m.addMember("values_", values);
                nbytes += values.nbytes();
            }
            default -> throw unsupported(type);
        }
        m.addMember("null_bitmap_", validity);
        m.setNbytes(nbytes);
        return m;
    }

    static ObjectMeta buildSchema(Schema schema) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            MessageSerializer.serialize(new WriteChannel(Channels.newChannel(out)), schema);
        } catch (IOException e) {
            throw new VineyardException(Status.ARROW_ERROR, "cannot serialise arrow schema", e);
        }
        ObjectNode binary = Json.object();
        ArrayNode bytes = binary.putArray("bytes");
        for (byte b : out.toByteArray()) {
            bytes.add(b & 0xFF);
        }
        binary.putNull("subtype");
        ObjectNode textual = Json.object();
        ArrayNode fields = textual.putArray("fields");
        for (Field f : schema.getFields()) {
            fields.addObject().put("name", f.getName()).put("type", f.getType().toString()).put("nullable", f.isNullable());
        }
        ObjectNode md = textual.putObject("metadata");
        schema.getCustomMetadata().forEach(md::put);
        ObjectMeta m = new ObjectMeta("vineyard::SchemaProxy");
        m.putJson("schema_binary_", binary);
        m.putJson("schema_textual_", textual);
        m.setNbytes(0);
        return m;
    }

    static ObjectMeta buildBatch(BuildContext ctx, VectorSchemaRoot root) {
        ObjectMeta m = new ObjectMeta("vineyard::RecordBatch");
        List<FieldVector> vectors = root.getFieldVectors();
        m.put("row_num_", (long) root.getRowCount());
        m.put("column_num_", (long) vectors.size());
        m.put("__columns_-size", (long) vectors.size());
        m.addMember("schema_", buildSchema(root.getSchema()));
        long nbytes = 0;
        for (int i = 0; i < vectors.size(); i++) {
            ObjectMeta col = buildArray(ctx, vectors.get(i));
            nbytes += col.nbytes();
            m.addMember("__columns_-" + i, col);
        }
        m.setNbytes(nbytes);
        return m;
    }

    // ---- reading ---------------------------------------------------------------------------------

    /**
     * Schemas already decoded, by the text of their {@code schema_binary_}: every get of a table decodes
     * its schema (a JSON list of the IPC message's bytes, then the flatbuffer), which measured 14% of a
     * warm get of a 3-column table; tables of one pipeline share a few schemas. Arrow's Schema and
     * Field are immutable, so one decoded schema serves every reader.
     */
    private static final int SCHEMAS_KEPT = 64;
    private static final java.util.Map<String, Schema> SCHEMAS = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(java.util.Map.Entry<String, Schema> eldest) {
                    return size() > SCHEMAS_KEPT;
                }
            });

    static Schema readSchema(ObjectMeta m) {
        String text = m.getString("schema_binary_");
        if (text != null && !text.isEmpty()) {
            Schema known = SCHEMAS.get(text);
            if (known != null) {
                return known;
            }
        }
        Schema schema = decodeSchema(m);
        if (text != null && !text.isEmpty()) {
            SCHEMAS.put(text, schema);
        }
        return schema;
    }

    private static Schema decodeSchema(ObjectMeta m) {
        JsonNode binary = m.getJson("schema_binary_");
        if (binary == null) {
            throw new VineyardException(Status.META_TREE_INVALID, "get " + m.what() + ": no schema_binary_");
        }
        JsonNode list = binary.isObject() ? binary.get("bytes") : binary;
        byte[] bytes = new byte[list.size()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) list.get(i).asInt();
        }
        try {
            return MessageSerializer.deserializeSchema(new ReadChannel(Channels.newChannel(new ByteArrayInputStream(bytes))));
        } catch (IOException | RuntimeException e) {
            throw new VineyardException(Status.ARROW_ERROR, "get " + m.what() + ": unreadable arrow schema", e);
        }
    }

    /** The Arrow field of a standalone array, from its typename. */
    static Field fieldOf(String name, ObjectMeta m) {
        String t = m.typename();
        ArrowType type;
        List<Field> children = List.of();
        if (t.startsWith("vineyard::NumericArray")) {
            String arg = t.substring(t.indexOf('<') + 1, t.lastIndexOf('>')).trim();
            type = switch (arg) {
                case "float" -> new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
                case "double" -> new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
                default -> intType(arg, m);
            };
        } else if (t.startsWith("vineyard::BooleanArray")) {
            type = ArrowType.Bool.INSTANCE;
        } else if (t.startsWith("vineyard::LargeStringArray") || t.contains("arrow::LargeStringArray")) {
            type = ArrowType.LargeUtf8.INSTANCE;
        } else if (t.startsWith("vineyard::StringArray") || t.contains("arrow::StringArray")) {
            type = ArrowType.Utf8.INSTANCE;
        } else if (t.contains("LargeBinaryArray")) {
            type = ArrowType.LargeBinary.INSTANCE;
        } else if (t.startsWith("vineyard::FixedSizeBinaryArray")) {
            type = new ArrowType.FixedSizeBinary(Math.toIntExact(m.getLong("byte_width_")));
        } else if (t.contains("BinaryArray")) {
            type = ArrowType.Binary.INSTANCE;
        } else if (t.startsWith("vineyard::FixedSizeListArray")) {
            type = new ArrowType.FixedSizeList(Math.toIntExact(m.getLong("list_size_")));
            children = List.of(fieldOf("item", m.member("values_")));
        } else if (t.startsWith("vineyard::LargeListArray") || t.startsWith(LARGE_LIST_ARRAY)) {
            type = ArrowType.LargeList.INSTANCE;
            children = List.of(fieldOf("item", m.member("values_")));
        } else if (t.startsWith("vineyard::ListArray") || t.startsWith(LIST_ARRAY)) {
            type = ArrowType.List.INSTANCE;
            children = List.of(fieldOf("item", m.member("values_")));
        } else if (t.startsWith("vineyard::NullArray")) {
            type = ArrowType.Null.INSTANCE;
        } else {
            throw new VineyardException(Status.TYPE_ERROR, "get " + m.what() + ": not an arrow array");
        }
        return new Field(name, FieldType.nullable(type), children);
    }

    private static ArrowType intType(String arg, ObjectMeta m) {
        io.vineyard.client.types.DType d = io.vineyard.client.types.DType.parse(arg);
        return switch (arg) {
            case "int8_t", "int8" -> new ArrowType.Int(8, true);
            case "uint8_t", "uint8" -> new ArrowType.Int(8, false);
            case "int16_t", "int16" -> new ArrowType.Int(16, true);
            case "uint16_t", "uint16" -> new ArrowType.Int(16, false);
            default -> {
                if (d == null) {
                    throw new VineyardException(Status.TYPE_ERROR, "get " + m.what() + ": unknown element type " + arg);
                }
                yield switch (d) {
                    case INT32 -> new ArrowType.Int(32, true);
                    case UINT32 -> new ArrowType.Int(32, false);
                    case INT64 -> new ArrowType.Int(64, true);
                    case UINT64 -> new ArrowType.Int(64, false);
                    default -> throw new IllegalStateException();
                };
            }
        };
    }

    /** Wraps blobs as ArrowBufs that hold a reference to the got object. */
    private record Wrapper(ResolveContext ctx, BufferAllocator allocator) {
        ArrowBuf wrap(ObjectMeta entry) {
            Blob b = ctx.blob(entry);
            if (b.size() == 0) {
                return allocator.getEmpty();
            }
            io.vineyard.client.Hold ref = ctx.object().retainNative();
            try {
                return allocator.wrapForeignAllocation(new ForeignAllocation(b.size(), b.segment().address()) {
                    @Override
                    protected void release0() {
                        ref.close();
                    }
                });
            } catch (RuntimeException e) {
                ref.close();
                throw e;
            }
        }

        /**
         * {@code buf} from byte {@code from}, {@code bytes} long, without a copy (it takes over {@code buf}'s
         * reference); {@code buf} itself when {@code offset} is 0. A blob too short is refused.
         */
        ArrowBuf slice(ArrowBuf buf, long from, long bytes, long offset) {
            if (offset == 0) {
                return buf;
            }
            if (bytes == 0) {   // an empty slice: no bytes of the blob needed
                buf.close();
                return allocator.getEmpty();
            }
            if (buf.capacity() < from + bytes) {
                long capacity = buf.capacity();
                buf.close();
                throw new VineyardException(Status.META_TREE_INVALID, "an array's offset_ " + offset + " and length need "
                        + (from + bytes) + " bytes of a blob of " + capacity);
            }
            return buf.slice(from, bytes);   // shares buf's reference, which the caller's close releases
        }

        /**
         * Bits {@code [offset, offset + length)} of the bitmap {@code buf} as a bitmap of their own: a slice where
         * {@code offset} is a multiple of 8, else a copy shifted into place (a bitmap is an eighth of a byte
         * per value). Takes over {@code buf}'s reference.
         */
        ArrowBuf bits(ArrowBuf buf, long offset, long length) {
            long bytes = (length + 7) / 8;
            if (buf.capacity() == 0) {
                return buf;
            }
            if (offset % 8 == 0) {
                return slice(buf, offset / 8, bytes, offset);
            }
            try (buf) {
                if (buf.capacity() < (offset + length + 7) / 8) {
                    throw new VineyardException(Status.META_TREE_INVALID, "a bitmap of " + buf.capacity()
                            + " bytes for offset_ " + offset + " and " + length + " values");
                }
                ArrowBuf out = allocator.buffer(bytes);
                int shift = (int) (offset % 8);
                long first = offset / 8;
                long last = buf.capacity() - 1;
                for (long i = 0; i < bytes; i++) {
                    int lo = buf.getByte(first + i) & 0xFF;
                    int hi = first + i + 1 <= last ? buf.getByte(first + i + 1) & 0xFF : 0;
                    out.setByte(i, (lo >>> shift) | (hi << (8 - shift)));
                }
                return out;
            }
        }

        /** Whether the array {@code m} has a validity bitmap (a non-empty {@code null_bitmap_} blob). */
        boolean hasBitmap(ObjectMeta m) {
            return m.hasMember("null_bitmap_") && ctx.blob(m.member("null_bitmap_")).size() > 0;
        }

        /** The validity bitmap of the values {@code [offset, offset + length)} of the array {@code m}. */
        ArrowBuf validityAt(ObjectMeta m, long offset, long length, long nullCount) {
            if (offset == 0) {
                return validity(m, length, nullCount);
            }
            ArrowBuf given = m.hasMember("null_bitmap_") ? wrap(m.member("null_bitmap_")) : allocator.getEmpty();
            if (given.capacity() == 0) {   // no bitmap: the same whatever the offset
                given.close();
                return validity(m, length, nullCount);
            }
            return bits(given, offset, length);
        }

        /**
         * The array's validity bitmap: its {@code null_bitmap_} blob, or, where that is absent or empty
         * and the array has no nulls or only nulls, a mapped one ({@link AbsentValidity}) rather than
         * the one Arrow would allocate and fill.
         */
        ArrowBuf validity(ObjectMeta m, long length, long nullCount) {
            ArrowBuf given = m.hasMember("null_bitmap_") ? wrap(m.member("null_bitmap_")) : allocator.getEmpty();
            if (given.capacity() == 0 && length > 0 && (nullCount == 0 || nullCount == length)) {
                ArrowBuf mapped = AbsentValidity.of(allocator, length, nullCount != 0);
                if (mapped != null) {
                    given.close();
                    return mapped;
                }
            }
            return given;
        }
    }

    /**
     * Loads {@code v} from the array {@code m} without copying (nor allocating a bitmap the metadata has none
     * of). An array with a non-zero {@code offset_} (a slice, as vineyard's Python client writes one) is read
     * in place too: its buffers are sliced where the offset falls on a byte (data, offsets; offsets stay
     * absolute into an unsliced data buffer), and only a bitmap whose offset does not is copied, shifted.
     */
    static void load(Wrapper w, FieldVector v, ObjectMeta m) {
        load(w, v, m, 0, -1, -1);
    }

    /**
     * As {@link #load(Wrapper, FieldVector, ObjectMeta)}, for values {@code [skip, skip + length)} of the
     * array when {@code length >= 0} ({@code nullCount} of them null, or -1 for the array's own count if
     * {@code skip} is 0, else counted in that part): how a fixed-size list at an offset reads its child,
     * whose values lie {@code list_size_} per list from the list's first one.
     */
    private static void load(Wrapper w, FieldVector v, ObjectMeta m, long skip, long length, long nullCount) {
        if (length < 0) {
            length = m.getLong("length_", 0);
        }
        if (v instanceof NullVector nv) {
            nv.setValueCount((int) length);
            return;
        }
        long offset = m.getLong("offset_", 0);
        if (offset < 0) {
            throw new VineyardException(Status.META_TREE_INVALID, "get " + m.what() + ": negative offset_ " + offset);
        }
        offset += skip;
        boolean countNulls = false;
        if (nullCount < 0) {
            if (skip == 0) {
                nullCount = m.getLong("null_count_", 0);
            } else if (!w.hasBitmap(m)) {   // no bitmap: no value is null, or every one
                nullCount = m.getLong("null_count_", 0) == 0 ? 0 : length;
            } else {
                nullCount = 0;   // counted in the part's bitmap below
                countNulls = true;
            }
        }
        List<ArrowBuf> bufs = new ArrayList<>(3);
        try {
            bufs.add(w.validityAt(m, offset, length, nullCount));
            switch (v) {
                case BaseVariableWidthVector x -> {
                    bufs.add(w.slice(w.wrap(m.member("buffer_offsets_")), 4 * offset, 4 * (length + 1), offset));
                    bufs.add(w.wrap(m.member("buffer_data_")));
                }
                case BaseLargeVariableWidthVector x -> {
                    bufs.add(w.slice(w.wrap(m.member("buffer_offsets_")), 8 * offset, 8 * (length + 1), offset));
                    bufs.add(w.wrap(m.member("buffer_data_")));
                }
                case ListVector x -> bufs.add(w.slice(w.wrap(m.member("buffer_offsets_")), 4 * offset, 4 * (length + 1), offset));
                case LargeListVector x -> bufs.add(w.slice(w.wrap(m.member("buffer_offsets_")), 8 * offset, 8 * (length + 1), offset));
                case FixedSizeListVector x -> {
                }
                case BitVector x -> bufs.add(w.bits(w.wrap(m.member("buffer_")), offset, length));
                case BaseFixedWidthVector x -> {
                    long width = x.getTypeWidth();
                    bufs.add(w.slice(w.wrap(m.member("buffer_")), width * offset, width * length, offset));
                }
                default -> bufs.add(w.wrap(m.member("buffer_")));
            }
            if (countNulls) {   // part of a child: count the nulls of that part
                nullCount = BitVectorHelper.getNullCount(bufs.getFirst(), Math.toIntExact(length));
            }
            v.loadFieldBuffers(new ArrowFieldNode(length, nullCount), bufs);
        } finally {
            bufs.forEach(ArrowBuf::close);
        }
        switch (v) {
            case ListVector l -> load(w, l.getDataVector(), m.member("values_"));
            case LargeListVector l -> load(w, l.getDataVector(), m.member("values_"));
            case FixedSizeListVector l -> {
                long size = l.getListSize();
                if (offset == 0) {
                    load(w, l.getDataVector(), m.member("values_"));
                } else {
                    load(w, l.getDataVector(), m.member("values_"), offset * size, length * size, -1);
                }
            }
            default -> {
            }
        }
    }

    /** A blob of the got object as an ArrowBuf over its bytes that holds the object while it lives. */
    static ArrowBuf wrapBlob(ResolveContext ctx, BufferAllocator allocator, ObjectMeta blobEntry) {
        return new Wrapper(ctx, allocator).wrap(blobEntry);
    }

    static FieldVector readArray(ResolveContext ctx, Field field, ObjectMeta m) {
        BufferAllocator allocator = allocator(ctx);
        FieldVector v = field.createVector(allocator);
        try {
            load(new Wrapper(ctx, allocator), v, m);
            return v;
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
    }

    static VectorSchemaRoot readBatch(ResolveContext ctx, ObjectMeta m, Schema schema) {
        if (schema == null) {
            schema = readSchema(m.member("schema_"));
        }
        long columns = m.getLong("__columns_-size", m.getLong("column_num_", 0));
        List<FieldVector> vectors = new ArrayList<>();
        try {
            for (int i = 0; i < columns; i++) {
                vectors.add(readArray(ctx, schema.getFields().get(i), m.member("__columns_-" + i)));
            }
        } catch (RuntimeException e) {
            vectors.forEach(FieldVector::close);
            throw e;
        }
        return new VectorSchemaRoot(schema.getFields(), vectors, Math.toIntExact(m.getLong("row_num_", 0)));
    }

    static ArrowTable readTable(ResolveContext ctx, ObjectMeta m) {
        Schema schema = readSchema(m.member("schema_"));
        String prefix = m.has("partitions_-size") ? "partitions_" : "__batches_";
        long n = m.getLong(prefix + "-size", m.getLong("batch_num_", 0));
        List<VectorSchemaRoot> batches = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                batches.add(readBatch(ctx, m.member(prefix + "-" + i), schema));
            }
        } catch (RuntimeException e) {
            batches.forEach(VectorSchemaRoot::close);
            throw e;
        }
        return new ArrowTable(schema, batches);
    }

    // ---- service entries -------------------------------------------------------------------------

    /** {@link VectorSchemaRoot} as {@code vineyard::RecordBatch} (and single-batch tables read as one root). */
    public static final class RecordBatchType implements VineyardType<VectorSchemaRoot> {
        /** Service constructor. */
        public RecordBatchType() {
        }

        @Override
        public Class<VectorSchemaRoot> javaType() {
            return VectorSchemaRoot.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::RecordBatch", "vineyard::Table");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, VectorSchemaRoot root) {
            return buildBatch(ctx, root);
        }

        @Override
        public VectorSchemaRoot resolve(ResolveContext ctx, ObjectMeta m) {
            if (m.typename().startsWith("vineyard::Table")) {
                ArrowTable t = readTable(ctx, m);
                if (t.batches().size() != 1) {
                    t.close();
                    throw new VineyardException(Status.TYPE_ERROR, "get " + m.what() + ": a table of "
                            + t.batches().size() + " batches reads as ArrowTable, not as one VectorSchemaRoot");
                }
                return t.batches().getFirst();
            }
            return readBatch(ctx, m, null);
        }
    }

    /** {@link ArrowTable} as {@code vineyard::Table}. */
    public static final class TableType implements VineyardType<ArrowTable> {
        /** Service constructor. */
        public TableType() {
        }

        @Override
        public Class<ArrowTable> javaType() {
            return ArrowTable.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::Table");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, ArrowTable table) {
            ObjectMeta m = new ObjectMeta("vineyard::Table");
            m.put("num_rows_", table.rowCount());
            m.put("num_columns_", (long) table.schema().getFields().size());
            m.put("batch_num_", (long) table.batches().size());
            m.put("partitions_-size", (long) table.batches().size());
            m.addMember("schema_", buildSchema(table.schema()));
            long nbytes = 0;
            for (int i = 0; i < table.batches().size(); i++) {
                ObjectMeta b = buildBatch(ctx, table.batches().get(i));
                nbytes += b.nbytes();
                m.addMember("partitions_-" + i, b);
            }
            m.setNbytes(nbytes);
            return m;
        }

        @Override
        public ArrowTable resolve(ResolveContext ctx, ObjectMeta m) {
            return readTable(ctx, m);
        }
    }

    /** Arrow vectors as vineyard's arrays. */
    public static final class ArrayType implements VineyardType<FieldVector> {
        /** Service constructor. */
        public ArrayType() {
        }

        @Override
        public Class<FieldVector> javaType() {
            return FieldVector.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::NumericArray", "vineyard::BooleanArray", "vineyard::StringArray",
                    "vineyard::LargeStringArray", "vineyard::BaseBinaryArray", "vineyard::FixedSizeBinaryArray",
                    "vineyard::BaseListArray", "vineyard::ListArray", "vineyard::LargeListArray", "vineyard::FixedSizeListArray",
                    "vineyard::NullArray");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, FieldVector v) {
            return buildArray(ctx, v);
        }

        @Override
        public FieldVector resolve(ResolveContext ctx, ObjectMeta m) {
            return readArray(ctx, fieldOf("", m), m);
        }
    }

    /** Arrow {@link Schema} as {@code vineyard::SchemaProxy}. */
    public static final class SchemaType implements VineyardType<Schema> {
        /** Service constructor. */
        public SchemaType() {
        }

        @Override
        public Class<Schema> javaType() {
            return Schema.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::SchemaProxy");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Schema schema) {
            return buildSchema(schema);
        }

        @Override
        public Schema resolve(ResolveContext ctx, ObjectMeta m) {
            return readSchema(m);
        }
    }

}
