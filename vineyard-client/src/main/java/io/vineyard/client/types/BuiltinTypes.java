package io.vineyard.client.types;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.client.Blob;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.registry.ResolveContext;
import io.vineyard.client.registry.VineyardType;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.List;

/**
 * The SDK's built-in {@link VineyardType}s, with vineyard's exact typenames and keys (spec section 4 and
 * the Python client's builders). Each nested class is a service entry.
 */
public final class BuiltinTypes {
    private BuiltinTypes() {
    }

    // ---- Blob ------------------------------------------------------------------------------------

    /** {@code vineyard::Blob} as {@link Blob}; putting a Blob refers to it (no copy). */
    public static final class BlobType implements VineyardType<Blob> {
        /** Service constructor. */
        public BlobType() {
        }

        @Override
        public Class<Blob> javaType() {
            return Blob.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::Blob");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Blob value) {
            return ctx.blobOf(value);
        }

        @Override
        public Blob resolve(ResolveContext ctx, ObjectMeta meta) {
            return ctx.object().retainBlob(meta.id());
        }
    }

    // ---- Tensor ----------------------------------------------------------------------------------

    /** {@code vineyard::Tensor<T>} as {@link Tensor}. */
    public static final class TensorType implements VineyardType<Tensor> {
        /** Service constructor. */
        public TensorType() {
        }

        @Override
        public Class<Tensor> javaType() {
            return Tensor.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::Tensor");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Tensor t) {
            ObjectMeta m = new ObjectMeta("vineyard::Tensor<" + t.dtype().cppName() + ">");
            m.put("value_type_", t.dtype().anyTypeName());
            m.put("value_type_meta_", t.dtype().numpyStr());
            m.putJson("shape_", t.shape());
            m.putJson("partition_index_", t.partitionIndex());
            m.putJson("order_", t.order().name());
            long nbytes = t.elementCount() * t.dtype().byteSize();
            m.setNbytes(nbytes);
            ObjectMeta buffer;
            if (t.writer() != null) {
                buffer = t.writer().asMember();
            } else if (t.blob() != null && t.blob().size() == nbytes) {
                buffer = ctx.blobOf(t.blob());
            } else {
                buffer = ctx.blobOf(t.data().asSlice(0, nbytes));
            }
            m.addMember("buffer_", buffer);
            return m;
        }

        @Override
        public Tensor resolve(ResolveContext ctx, ObjectMeta m) {
            DType dtype = DType.require(dtypeOf(m), "get " + m.what());
            long[] shape = m.getLongList("shape_");
            JsonNode o = m.getJson("order_");
            Tensor.Order order = o != null && "F".equals(o.asText()) ? Tensor.Order.F : Tensor.Order.C;
            long[] partition = m.has("partition_index_") ? m.getLongList("partition_index_") : new long[0];
            ObjectMeta bufferMeta = m.member("buffer_");
            if (!bufferMeta.isBlob()) {
                throw new VineyardException.NotImplemented("get " + m.what() + ": tensors of strings are not supported");
            }
            Blob blob = ctx.blob(bufferMeta);
            return Members.holding(ctx, hold -> new Tensor(dtype, shape, order, blob.segment(), partition, blob, null, hold));
        }

        /** {@code value_type_}, else {@code value_type_meta_}, else the typename's argument; null if none parses. */
        private static DType dtypeOf(ObjectMeta m) {
            DType dtype = DType.parse(m.getString("value_type_"));
            if (dtype == null) {
                dtype = DType.parse(m.getString("value_type_meta_"));
            }
            return dtype != null ? dtype : DType.ofTypename(m.typename());
        }
    }

    // ---- Array -----------------------------------------------------------------------------------

    /** {@code vineyard::Array<T>} as {@link Array}. */
    public static final class ArrayType implements VineyardType<Array> {
        /** Service constructor. */
        public ArrayType() {
        }

        @Override
        public Class<Array> javaType() {
            return Array.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::Array");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Array a) {
            ObjectMeta m = new ObjectMeta("vineyard::Array<" + a.dtype().cppName() + ">");
            long nbytes = a.size() * a.dtype().byteSize();
            m.addMember("buffer_", a.blob() != null ? ctx.blobOf(a.blob()) : ctx.blobOf(a.data().asSlice(0, nbytes)));
            m.setNbytes(nbytes);
            m.put("size_", a.size());
            return m;
        }

        @Override
        public Array resolve(ResolveContext ctx, ObjectMeta m) {
            DType dtype = DType.require(DType.ofTypename(m.typename()), "get " + m.what());
            long size = m.getLong("size_", 0);
            Blob blob = ctx.blob(m.member("buffer_"));
            return Members.holding(ctx, hold -> new Array(dtype, size, blob.segment(), blob, hold));
        }
    }

    // ---- Scalar ----------------------------------------------------------------------------------

    /** {@code vineyard::Scalar<T>} as {@link Scalar}. */
    public static final class ScalarType implements VineyardType<Scalar> {
        /** Service constructor. */
        public ScalarType() {
        }

        @Override
        public Class<Scalar> javaType() {
            return Scalar.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::Scalar");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Scalar s) {
            ObjectMeta m = new ObjectMeta("vineyard::Scalar<" + s.cppName() + ">");
            switch (s.value()) {
                case Long l -> m.put("value_", l.longValue());
                case Integer i -> m.put("value_", i.longValue());
                case Double d -> m.put("value_", finite(d));
                case Float f -> m.put("value_", finite(f));
                case Boolean b -> m.put("value_", b.booleanValue());
                default -> m.put("value_", String.valueOf(s.value()));
            }
            m.put("type_", s.type());
            m.setNbytes(0);
            return m;
        }

        private static double finite(double d) {
            if (!Double.isFinite(d)) {
                throw new VineyardException.Invalid("put: NaN and infinities cannot be stored in JSON metadata");
            }
            return d;
        }

        @Override
        public Scalar resolve(ResolveContext ctx, ObjectMeta m) {
            JsonNode v = m.value("value_");
            String type = m.getString("type_");
            if (type == null) {
                String arg = m.typename().substring(m.typename().indexOf('<') + 1, m.typename().length() - 1);
                DType d = DType.parse(arg);
                type = d != null ? d.anyTypeName() : arg.contains("string") ? "string" : arg;
            }
            Object value = switch (type) {
                case "bool" -> v.asBoolean();
                case "int32", "int", "int32_t" -> v.asInt();
                case "int64", "int64_t", "uint32", "uint64", "long" -> v.asLong();
                case "float", "float32" -> (float) v.asDouble();
                case "double", "float64" -> v.asDouble();
                case "string", "str", "std::string" -> v.asText();
                default -> v.isNumber() ? v.numberValue() : v.isBoolean() ? v.asBoolean() : v.asText();
            };
            return new Scalar(value, type);
        }
    }

    /** Boxed numbers stored as scalars. */
    public static final class NumberType implements VineyardType<Number> {
        /** Service constructor. */
        public NumberType() {
        }

        @Override
        public Class<Number> javaType() {
            return Number.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of();
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Number n) {
            return new ScalarType().build(ctx, Scalar.of(n));
        }
    }

    /** Strings stored as scalars. */
    public static final class StringType implements VineyardType<String> {
        /** Service constructor. */
        public StringType() {
        }

        @Override
        public Class<String> javaType() {
            return String.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of();
        }

        @Override
        public ObjectMeta build(BuildContext ctx, String s) {
            return new ScalarType().build(ctx, Scalar.of(s));
        }
    }

    /** Booleans stored as scalars. */
    public static final class BooleanType implements VineyardType<Boolean> {
        /** Service constructor. */
        public BooleanType() {
        }

        @Override
        public Class<Boolean> javaType() {
            return Boolean.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of();
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Boolean b) {
            return new ScalarType().build(ctx, Scalar.of(b));
        }
    }

    // ---- DataFrame -------------------------------------------------------------------------------

    /** {@code vineyard::DataFrame} as {@link DataFrame}. */
    public static final class DataFrameType implements VineyardType<DataFrame> {
        /** Service constructor. */
        public DataFrameType() {
        }

        @Override
        public Class<DataFrame> javaType() {
            return DataFrame.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::DataFrame");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, DataFrame df) {
            ObjectMeta m = new ObjectMeta("vineyard::DataFrame");
            m.putJson("columns_", df.columnNames());
            long nbytes = 0;
            TensorType tensors = new TensorType();
            for (int i = 0; i < df.columns().size(); i++) {
                Tensor col = df.columns().get(i);
                if (col.shape().length != 1) {
                    throw new VineyardException.Invalid("put DataFrame: column '" + df.columnNames().get(i) + "' is not one-dimensional");
                }
                ObjectMeta t = tensors.build(ctx, col);
                m.putJson("__values_-key-" + i, df.columnNames().get(i));
                m.addMember("__values_-value-" + i, t);
                nbytes += t.nbytes();
            }
            m.put("__values_-size", (long) df.columns().size());
            if (df.index() != null) {
                m.addMember("index_", tensors.build(ctx, df.index()));
            }
            DataFrame.PartitionIndex at = ctx.option(DataFrame.PartitionIndex.class);
            m.put("partition_index_row_", at == null ? 0L : at.row());
            m.put("partition_index_column_", at == null ? 0L : at.column());
            m.put("row_batch_index_", 0L);
            m.setNbytes(nbytes);
            return m;
        }

        @Override
        public DataFrame resolve(ResolveContext ctx, ObjectMeta m) {
            DataFrame.Columns layout = DataFrame.Columns.of(m);
            List<String> keys = layout.keys();
            List<Tensor> values = new ArrayList<>();   // every tensor resolved so far: closed on a failure
            try {
                for (int i = 0; i < keys.size(); i++) {
                    values.add(ctx.resolve(m.member("__values_-value-" + i), Tensor.class));
                }
                Tensor index = m.hasMember("index_") ? ctx.resolve(indexValues(m.member("index_")), Tensor.class) : null;
                if (index != null) {
                    values.add(index);
                }
                List<Tensor> columns = new ArrayList<>();
                boolean[] taken = new boolean[keys.size()];
                for (int at : layout.positions()) {
                    columns.add(values.get(at));
                    taken[at] = true;
                }
                List<Tensor> unused = new ArrayList<>();
                for (int i = 0; i < keys.size(); i++) {
                    if (taken[i]) {
                        continue;
                    }
                    if ("index_".equals(keys.get(i)) && index == null) {
                        index = values.get(i);   // C++ keeps the index among the values
                    } else {
                        unused.add(values.get(i));
                    }
                }
                DataFrame frame = new DataFrame(layout.names(), columns, index);
                Members.closeAll(unused);
                return frame;
            } catch (RuntimeException e) {
                throw Members.closeAfter(e, values);
            }
        }
    }

    /**
     * The tensor of a frame's {@code index_}: the member itself, or, where vineyard's Python client wrote a
     * {@code vineyard::Index} ({@code name}, {@code value_type_}, member {@code value_}), its values.
     */
    static ObjectMeta indexValues(ObjectMeta index) {
        return index.typename().startsWith("vineyard::Index") && index.hasMember("value_") ? index.member("value_") : index;
    }

    // ---- Sequence / Tuple ------------------------------------------------------------------------

    private static ObjectMeta buildElements(BuildContext ctx, String typename, List<Object> elements) {
        ObjectMeta m = new ObjectMeta(typename);
        m.put("size_", (long) elements.size());
        m.put("__elements_-size", (long) elements.size());
        long nbytes = 0;
        for (int i = 0; i < elements.size(); i++) {
            ObjectMeta e = ctx.build(elements.get(i));
            m.addMember("__elements_-" + i, e);
            nbytes += e.nbytes();
        }
        m.setNbytes(nbytes);
        return m;
    }

    /** The elements, in order; when one fails to resolve, the ones before it are closed first. */
    private static List<Object> resolveElements(ResolveContext ctx, ObjectMeta m) {
        long size = m.getLong("__elements_-size", m.getLong("size_", 0));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            names.add("__elements_-" + i);
        }
        return resolveMembers(ctx, m, names);
    }

    /** The members {@code names} of {@code m}, in order; when one fails to resolve, the ones before it are closed first. */
    private static List<Object> resolveMembers(ResolveContext ctx, ObjectMeta m, List<String> names) {
        List<Object> out = new ArrayList<>();
        try {
            for (String name : names) {
                out.add(ctx.resolve(m.member(name), Object.class));
            }
            return out;
        } catch (RuntimeException e) {
            throw Members.closeAfter(e, out);
        }
    }

    /** {@code vineyard::Sequence} as {@link Sequence}. */
    public static final class SequenceType implements VineyardType<Sequence> {
        /** Service constructor. */
        public SequenceType() {
        }

        @Override
        public Class<Sequence> javaType() {
            return Sequence.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::Sequence");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Sequence s) {
            return buildElements(ctx, "vineyard::Sequence", s.elements());
        }

        @Override
        public Sequence resolve(ResolveContext ctx, ObjectMeta m) {
            return new Sequence(resolveElements(ctx, m));
        }
    }

    /** {@code vineyard::Tuple} as {@link Tuple}; {@code vineyard::Pair} ({@code first_}, {@code second_}) reads as one too. */
    public static final class TupleType implements VineyardType<Tuple> {
        /** Service constructor. */
        public TupleType() {
        }

        @Override
        public Class<Tuple> javaType() {
            return Tuple.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::Tuple", "vineyard::Pair");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Tuple t) {
            return buildElements(ctx, "vineyard::Tuple", t.elements());
        }

        @Override
        public Tuple resolve(ResolveContext ctx, ObjectMeta m) {
            if (m.typename().startsWith("vineyard::Pair")) {   // vineyard's Python client writes a 2-tuple so
                return new Tuple(resolveMembers(ctx, m, List.of("first_", "second_")));
            }
            return new Tuple(resolveElements(ctx, m));
        }
    }

    // ---- global objects --------------------------------------------------------------------------

    private static List<ObjectId> partitionIds(ObjectMeta m) {
        long size = m.getLong("partitions_-size", 0);
        List<ObjectId> ids = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            ids.add(m.member("partitions_-" + i).id());
        }
        return ids;
    }

    private static void addPartitions(ObjectMeta m, List<ObjectId> partitions) {
        m.put("partitions_-size", (long) partitions.size());
        for (int i = 0; i < partitions.size(); i++) {
            m.addMember("partitions_-" + i, partitions.get(i));
        }
        m.setGlobal(true);
        m.setNbytes(0);
    }

    /** {@code vineyard::GlobalTensor} as {@link GlobalTensor}. */
    public static final class GlobalTensorType implements VineyardType<GlobalTensor> {
        /** Service constructor. */
        public GlobalTensorType() {
        }

        @Override
        public Class<GlobalTensor> javaType() {
            return GlobalTensor.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::GlobalTensor");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, GlobalTensor g) {
            ObjectMeta m = new ObjectMeta("vineyard::GlobalTensor");
            m.putJson("shape_", g.shape());
            m.putJson("partition_shape_", g.partitionShape());
            addPartitions(m, g.partitions());
            return m;
        }

        @Override
        public GlobalTensor resolve(ResolveContext ctx, ObjectMeta m) {
            return new GlobalTensor(m.getLongList("shape_"),
                    m.has("partition_shape_") ? m.getLongList("partition_shape_") : new long[0], partitionIds(m));
        }
    }

    /** {@code vineyard::GlobalDataFrame} as {@link GlobalDataFrame}. */
    public static final class GlobalDataFrameType implements VineyardType<GlobalDataFrame> {
        /** Service constructor. */
        public GlobalDataFrameType() {
        }

        @Override
        public Class<GlobalDataFrame> javaType() {
            return GlobalDataFrame.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::GlobalDataFrame");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, GlobalDataFrame g) {
            ObjectMeta m = new ObjectMeta("vineyard::GlobalDataFrame");
            m.put("partition_shape_row_", g.partitionShapeRow());
            m.put("partition_shape_column_", g.partitionShapeColumn());
            addPartitions(m, g.partitions());
            return m;
        }

        @Override
        public GlobalDataFrame resolve(ResolveContext ctx, ObjectMeta m) {
            return new GlobalDataFrame(m.getLong("partition_shape_row_", 0), m.getLong("partition_shape_column_", 0),
                    partitionIds(m));
        }
    }

}
