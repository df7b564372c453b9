package io.vineyard.client.types;

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
