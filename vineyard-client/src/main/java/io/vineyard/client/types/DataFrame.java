package io.vineyard.client.types;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.List;

/**
 * A table of named one-dimensional columns, vineyard's {@code vineyard::DataFrame} (pandas' layout): each
 * column is a {@link Tensor}, plus an optional index tensor. Closing a got frame releases its columns.
 *
 * @param columnNames the column names (non-string names written by Python read as their JSON text)
 * @param columns     one tensor per column
 * @param index       the index, or null
 */
public record DataFrame(List<String> columnNames, List<Tensor> columns, Tensor index) implements AutoCloseable {
    /**
     * The columns of a {@code vineyard::DataFrame}'s metadata, matched as every resolver of one reads them:
     * {@code names} from {@code columns_}, {@code keys} from {@code __values_-key-<i>}, and for each column
     * the {@code position} {@code i} of its value member {@code __values_-value-<i>} (the first value of
     * that key not taken by an earlier column). Names that are not strings read as their JSON text.
     *
     * @param names     the column names, in order
     * @param keys      the key of each value, in value order
     * @param positions for each column, the position of its value
     */
    public record Columns(List<String> names, List<String> keys, int[] positions) {
        /**
         * Matches {@code m}'s columns to its values.
         *
         * @throws VineyardException (META_TREE_INVALID) when a column has no value
         */
        public static Columns of(ObjectMeta m) {
            List<String> names = new ArrayList<>();
            JsonNode listed = m.getJson("columns_");
            if (listed != null) {
                listed.forEach(n -> names.add(nameOf(n)));
            }
            long size = m.getLong("__values_-size", 0);
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                keys.add(nameOf(m.getJson("__values_-key-" + i)));
            }
            List<String> free = new ArrayList<>(keys);
            int[] positions = new int[names.size()];
            for (int c = 0; c < names.size(); c++) {
                int at = free.indexOf(names.get(c));
                if (at < 0) {
                    throw new VineyardException(Status.META_TREE_INVALID, "get " + m.what() + ": column '" + names.get(c) + "' has no value");
                }
                positions[c] = at;
                free.set(at, null);
            }
            return new Columns(List.copyOf(names), java.util.Collections.unmodifiableList(keys), positions);
        }

        /** The value member of column {@code c}. */
        public ObjectMeta value(ObjectMeta m, int c) {
            return m.member("__values_-value-" + positions[c]);
        }

        private static String nameOf(JsonNode n) {
            return n == null ? "null" : n.isTextual() ? n.textValue() : n.toString();
        }
    }

    /**
     * Where a frame sits in a {@link GlobalDataFrame} ({@code partition_index_row_},
     * {@code partition_index_column_}), a builder input of its put:
     * {@code client.put(frame, PutOptions.persistent().withBuilderInput(new DataFrame.PartitionIndex(3, 0)))}.
     * Without it a put frame is at (0, 0), as vineyard's Python builder puts one.
     *
     * @param row    the partition's row
     * @param column the partition's column
     */
    public record PartitionIndex(long row, long column) {
    }

    /** Checks that names and columns match. */
    public DataFrame {
        if (columnNames.size() != columns.size()) {
            throw new IllegalArgumentException(columnNames.size() + " names for " + columns.size() + " columns");
        }
        columnNames = List.copyOf(columnNames);
        columns = List.copyOf(columns);
    }

    /** The column named {@code name}. */
    public Tensor column(String name) {
        int i = columnNames.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no column '" + name + "' in " + columnNames);
        }
        return columns.get(i);
    }

    /** The number of rows (0 without columns). */
    public long rowCount() {
        return columns.isEmpty() ? 0 : columns.getFirst().shape()[0];
    }

    /** Releases every column and the index. */
    @Override
    public void close() {
        List<Tensor> all = new ArrayList<>(columns);
        if (index != null) {
            all.add(index);
        }
        all.forEach(Tensor::close);
    }
}
