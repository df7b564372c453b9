package io.vineyard.client.types;

import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;

import java.util.List;

/**
 * A data frame split into partitions, vineyard's {@code vineyard::GlobalDataFrame} ({@code global:true},
 * {@code partition_shape_row_}, {@code partition_shape_column_}, {@code partitions_-<i>}). Partitions are
 * existing, persisted {@link DataFrame}s referred to by id.
 *
 * @param partitionShapeRow    partitions along rows
 * @param partitionShapeColumn partitions along columns
 * @param partitions           the partition frames' ids
 */
public record GlobalDataFrame(long partitionShapeRow, long partitionShapeColumn, List<ObjectId> partitions) {
    /** Copies the list. */
    public GlobalDataFrame {
        partitions = List.copyOf(partitions);
    }

    /**
     * The partitions that live on {@code client}'s instance (the ones it can map); every partition's
     * metadata is readable from any instance with {@link Client#getMeta}, wherever it lives.
     */
    public List<ObjectId> localPartitions(Client client) {
        return localOf(partitions, client);
    }

    static List<ObjectId> localOf(List<ObjectId> partitions, Client client) {
        return partitions.stream().filter(p -> client.getMeta(p).instanceId() == client.instanceId()).toList();
    }
}
