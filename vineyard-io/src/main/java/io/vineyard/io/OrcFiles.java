package io.vineyard.io;

import io.vineyard.arrow.ArrowTable;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VariableWidthFieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hive.ql.exec.vector.BytesColumnVector;
import org.apache.hadoop.hive.ql.exec.vector.ColumnVector;
import org.apache.hadoop.hive.ql.exec.vector.DoubleColumnVector;
import org.apache.hadoop.hive.ql.exec.vector.LongColumnVector;
import org.apache.hadoop.hive.ql.exec.vector.VectorizedRowBatch;
import org.apache.orc.OrcFile;
import org.apache.orc.TypeDescription;
import org.apache.orc.Writer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * ORC files written with Apache ORC's own writer (orc-core), because arrow-dataset's JNI writer refuses
 * ORC. The pool's Arrow vectors are copied value by value into ORC's column vectors (1024 rows at a
 * time) and encoded with ORC's defaults (zstd). Columns: bool, int8..int64, uint8..uint32, float,
 * double, utf8, large_utf8, binary; others are {@link IoException.Unsupported}, naming the column.
 */
final class OrcFiles {
    private static final int ROWS = 1024;

    private OrcFiles() {
    }

    /** Writes {@code table} to the local file {@code file} (replaced), no checksum sibling. */
    static void write(ArrowTable table, Path file, String uri) {
        List<Field> fields = table.schema().getFields();
        TypeDescription schema = TypeDescription.createStruct();
        for (Field f : fields) {
            schema.addField(f.getName(), orcType(uri, f));
        }
        Configuration conf = new Configuration();
        try {
            FileSystem local = FileSystem.getLocal(conf).getRaw();
            try (Writer writer = OrcFile.createWriter(new org.apache.hadoop.fs.Path(file.toUri()),
                    OrcFile.writerOptions(conf).setSchema(schema).fileSystem(local).overwrite(true))) {
                VectorizedRowBatch batch = schema.createRowBatch(ROWS);
                for (VectorSchemaRoot root : table.batches()) {
                    for (int start = 0; start < root.getRowCount(); start += ROWS) {
                        int n = Math.min(ROWS, root.getRowCount() - start);
                        batch.reset();
                        for (int c = 0; c < fields.size(); c++) {
                            fill(batch.cols[c], root.getVector(c), start, n);
                        }
                        batch.size = n;
                        writer.addRowBatch(batch);
                    }
                }
            }
        } catch (IOException e) {
            throw new IoException(uri, null, "writing ORC: " + e, e);
        }
    }

    private static TypeDescription orcType(String uri, Field f) {
        ArrowType t = f.getType();
        if (t instanceof ArrowType.Bool) {
            return TypeDescription.createBoolean();
        }
        if (t instanceof ArrowType.Int i) {
            int bits = i.getIsSigned() ? i.getBitWidth() : i.getBitWidth() * 2;
            return switch (bits) {
                case 8 -> TypeDescription.createByte();
                case 16 -> TypeDescription.createShort();
                case 32 -> TypeDescription.createInt();
                case 64 -> TypeDescription.createLong();
                default -> throw new IoException.Unsupported(uri, "column '" + f.getName() + "' of " + t + " in ORC (no unsigned 64-bit type there)");
            };
        }
        if (t instanceof ArrowType.FloatingPoint p) {
            return p.getPrecision() == FloatingPointPrecision.DOUBLE ? TypeDescription.createDouble() : TypeDescription.createFloat();
        }
        if (t instanceof ArrowType.Utf8 || t instanceof ArrowType.LargeUtf8) {
            return TypeDescription.createString();
        }
        if (t instanceof ArrowType.Binary || t instanceof ArrowType.LargeBinary) {
            return TypeDescription.createBinary();
        }
        throw new IoException.Unsupported(uri, "column '" + f.getName() + "' of " + t + " in ORC (bool, integers, float, double, strings, binary)");
    }

    private static void fill(ColumnVector out, FieldVector in, int start, int n) {
        for (int r = 0; r < n; r++) {
            int i = start + r;
            if (in.isNull(i)) {
                out.noNulls = false;
                out.isNull[r] = true;
                continue;
            }
            out.isNull[r] = false;
            switch (out) {
                case LongColumnVector l when in instanceof BitVector b -> l.vector[r] = b.get(i);
                case LongColumnVector l -> l.vector[r] = ((BaseIntVector) in).getValueAsLong(i);
                case DoubleColumnVector d when in instanceof Float4Vector f -> d.vector[r] = f.get(i);
                case DoubleColumnVector d -> d.vector[r] = ((Float8Vector) in).get(i);
                case BytesColumnVector s -> s.setVal(r, ((VariableWidthFieldVector) in).get(i));
                default -> throw new IllegalStateException("no ORC column for " + in.getField());
            }
        }
    }
}
