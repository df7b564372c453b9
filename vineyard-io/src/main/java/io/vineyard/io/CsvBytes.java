package io.vineyard.io;

import io.vineyard.arrow.ArrowTypes;
import io.vineyard.arrow.RecordBatchStream;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.stream.ByteStream;
import io.vineyard.client.stream.ByteStreamReader;
import io.vineyard.client.stream.ObjectStreamWriter;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * vineyard's {@code parse_bytes}: CSV text arriving in a {@code ByteStream} (from {@code readBytes}, another
 * process, a socket...) parsed into a {@code RecordBatchStream} batch by batch, so the parser starts on the
 * first chunk while the bytes are still being read and its consumer gets the first batch while the rest is
 * still being parsed. Records are split by Apache Commons CSV (RFC 4180 quoting) as the chunks arrive; the
 * column types come from {@code column_types} or, as Arrow's streaming CSV reader does, are inferred from the
 * first batch (int64, then double, then bool, else utf8) and hold for the rest: a later value that does not
 * fit is {@code Malformed} at its row. A failure aborts the batch stream.
 */
final class CsvBytes {
    /** Arrow's default null spellings ({@code ConvertOptions::null_values}); empty strings stay strings. */
    static final Set<String> ARROW_NULLS = Set.of("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
            "1.#IND", "1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null");
    private static final long DEFAULT_BATCH_ROWS = 1 << 20;

    private CsvBytes() {
    }

    static void parse(IpcClient client, ObjectId bytes, ObjectId batches, IoOptions o, VineyardIO.Progress progress) {
        String uri = "stream " + bytes;
        for (String refused : List.of("schema", "include_all_columns", "format")) {
            if (o.string(refused, null) != null && !(refused.equals("format") && o.string(refused, "").equalsIgnoreCase("csv"))) {
                throw new IoException.Unsupported(uri, "option '" + refused + "' for parsing a byte stream (CSV: delimiter, header_row, column_types, null_values, batch_rows)");
            }
        }
        char delimiter = o.delimiter(',');
        boolean header = o.bool("header_row", true);
        long batchRows = Math.max(1, o.number("batch_rows", DEFAULT_BATCH_ROWS));
        List<String> nullList = o.list("null_values");
        Set<String> nulls = nullList == null ? ARROW_NULLS : Set.copyOf(nullList);
        boolean stringsCanBeNull = nullList != null;
        List<String> typeNames = o.list("column_types");
        CSVFormat format = CSVFormat.RFC4180.builder().setDelimiter(delimiter).setIgnoreEmptyLines(true).get();
        try (ObjectStreamWriter w = RecordBatchStream.openWriter(client, batches)) {
            try (ByteStreamReader r = ByteStream.openReader(client, bytes);
                 CSVParser parser = CSVParser.builder().setReader(new InputStreamReader(r.inputStream(), StandardCharsets.UTF_8))
                         .setFormat(format).get();
                 BufferAllocator allocator = ArrowTypes.defaultAllocator().newChildAllocator("vineyard-io parse_bytes", 0, Long.MAX_VALUE)) {
                Iterator<CSVRecord> records = parser.iterator();
                List<String> names = new ArrayList<>();
                long row = 0;  // data rows taken so far
                if (header) {
                    if (!next(uri, records, row)) {
                        throw new IoException.Malformed(uri, "row 0", "no header row: the stream is empty", null);
                    }
                    records.next().forEach(names::add);
                }
                List<ArrowType> types = null;
                long bytesOut = 0;
                while (true) {
                    List<String[]> batch = new ArrayList<>();
                    while (batch.size() < batchRows && next(uri, records, row + batch.size())) {
                        CSVRecord rec = records.next();
                        if (names.isEmpty()) {
                            for (int i = 0; i < rec.size(); i++) {
                                names.add("f" + i);
                            }
                        }
                        if (rec.size() != names.size()) {
                            throw new IoException.Malformed(uri, "row " + (row + batch.size() + 1),
                                    "expected " + names.size() + " columns, got " + rec.size(), null);
                        }
                        batch.add(rec.values());
                    }
                    if (types == null) {
                        types = types(uri, names, typeNames, batch, nulls);
                    }
                    if (batch.isEmpty() && row > 0) {
                        break;
                    }
                    try (VectorSchemaRoot root = build(uri, allocator, names, types, batch, row, nulls, stringsCanBeNull)) {
                        w.write(root);
                        bytesOut += root.getFieldVectors().stream().mapToLong(FieldVector::getBufferSize).sum();
                    }
                    row += batch.size();
                    progress.update(bytesOut, row);
                    if (batch.size() < batchRows) {
                        break;
                    }
                }
                w.finish();
            } catch (IOException e) {
                throw abort(w, new IoException(uri, null, e.toString(), e));
            } catch (RuntimeException e) {
                throw abort(w, e);
            }
        }
    }

    private static RuntimeException abort(ObjectStreamWriter w, RuntimeException cause) {
        try {
            w.abort();
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
        return cause;
    }

    /** {@code hasNext()}, with Commons CSV's parse failures (an unclosed quote) as {@code Malformed} at the row. */
    private static boolean next(String uri, Iterator<CSVRecord> records, long row) {
        try {
            return records.hasNext();
        } catch (UncheckedIOException | IllegalStateException e) {
            throw new IoException.Malformed(uri, "row " + (row + 1), String.valueOf(e.getMessage()), e);
        }
    }

    private static List<ArrowType> types(String uri, List<String> names, List<String> given, List<String[]> sample, Set<String> nulls) {
        if (given != null && given.size() > names.size()) {
            throw new IoException.Unsupported(uri, given.size() + " column_types for " + names.size() + " columns");
        }
        List<ArrowType> types = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) {
            String named = given != null && c < given.size() ? given.get(c) : "";
            types.add(named.isEmpty() ? infer(sample, c, nulls) : checked(uri, TableReader.arrowType(uri, named)));
        }
        return types;
    }

    private static ArrowType checked(String uri, ArrowType t) {
        if (t instanceof ArrowType.Int i && i.getBitWidth() == 64 && i.getIsSigned()
                || t instanceof ArrowType.FloatingPoint f && f.getPrecision() == FloatingPointPrecision.DOUBLE
                || t instanceof ArrowType.Bool || t instanceof ArrowType.Utf8) {
            return t;
        }
        throw new IoException.Unsupported(uri, "column type " + t + " for parsing a byte stream (int64, double, bool, string)");
    }

    private static ArrowType infer(List<String[]> sample, int c, Set<String> nulls) {
        boolean ints = true;
        boolean doubles = true;
        boolean bools = true;
        boolean any = false;
        for (String[] row : sample) {
            String v = row[c];
            if (nulls.contains(v)) {
                continue;
            }
            any = true;
            ints = ints && parseLong(v) != null;
            doubles = doubles && parseDouble(v) != null;
            bools = bools && parseBool(v) != null;
        }
        if (!any) {
            return ArrowType.Utf8.INSTANCE;
        }
        return ints ? new ArrowType.Int(64, true) : doubles ? new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)
                : bools ? ArrowType.Bool.INSTANCE : ArrowType.Utf8.INSTANCE;
    }

    private static Long parseLong(String v) {
        try {
            return Long.parseLong(v.startsWith("+") ? v.substring(1) : v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Double parseDouble(String v) {
        if (v.isEmpty() || !(Character.isDigit(v.charAt(v.length() - 1)) || v.endsWith("."))
                && !v.equalsIgnoreCase("inf") && !v.equalsIgnoreCase("-inf")) {
            return null;  // Java also reads "1d", "0x1p3", "Infinity": CSV numbers end in a digit
        }
        try {
            return v.equalsIgnoreCase("inf") ? Double.POSITIVE_INFINITY : v.equalsIgnoreCase("-inf") ? Double.NEGATIVE_INFINITY : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Boolean parseBool(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "1" -> Boolean.TRUE;
            case "false", "0" -> Boolean.FALSE;
            default -> null;
        };
    }

    private static VectorSchemaRoot build(String uri, BufferAllocator allocator, List<String> names, List<ArrowType> types,
                                          List<String[]> batch, long firstRow, Set<String> nulls, boolean stringsCanBeNull) {
        List<FieldVector> vectors = new ArrayList<>();
        int n = batch.size();
        try {
            for (int c = 0; c < names.size(); c++) {
                ArrowType t = types.get(c);
                FieldVector v = Field.nullable(names.get(c), t).createVector(allocator);
                vectors.add(v);
                v.setInitialCapacity(n);
                v.allocateNew();
                for (int i = 0; i < n; i++) {
                    String s = batch.get(i)[c];
                    boolean isNull = t instanceof ArrowType.Utf8 ? stringsCanBeNull && nulls.contains(s) : nulls.contains(s);
                    if (isNull) {
                        v.setNull(i);
                        continue;
                    }
                    Object value = switch (v) {
                        case BigIntVector b -> parseLong(s);
                        case Float8Vector f -> parseDouble(s);
                        case BitVector b -> parseBool(s);
                        default -> s;
                    };
                    if (value == null) {
                        throw new IoException.Malformed(uri, "row " + (firstRow + i + 1), "column '" + names.get(c) + "': '" + s
                                + "' is not " + t + " (the type given or inferred from the first batch)", null);
                    }
                    switch (v) {
                        case BigIntVector b -> b.set(i, (Long) value);
                        case Float8Vector f -> f.set(i, (Double) value);
                        case BitVector b -> b.set(i, (Boolean) value ? 1 : 0);
                        case VarCharVector s2 -> s2.setSafe(i, ((String) value).getBytes(StandardCharsets.UTF_8));
                        default -> throw new IllegalStateException(v.getClass().getName());
                    }
                }
                v.setValueCount(n);
            }
            VectorSchemaRoot root = new VectorSchemaRoot(vectors);
            root.setRowCount(n);
            return root;
        } catch (RuntimeException e) {
            vectors.forEach(FieldVector::close);
            throw e;
        }
    }
}
