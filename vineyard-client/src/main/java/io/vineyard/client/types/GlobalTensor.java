package io.vineyard.client.types;

import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;

import java.util.List;

/**
 * A tensor split into partitions that may live on several instances, vineyard's {@code vineyard::GlobalTensor}
 * ({@code global:true}, {@code shape_}, {@code partition_shape_}, {@code partitions_-<i>}). Partitions are
 * existing tensors, referred to by id; persist them before putting the global tensor.
 *
 * @param shape          the whole tensor's shape
 * @param partitionShape how many partitions along each dimension
 * @param partitions     the partition tensors' ids
 */
public record GlobalTensor(long[] shape, long[] partitionShape, List<ObjectId> partitions) {
    /** Copies the arrays. */
    public GlobalTensor {
        shape = shape.clone();
        partitionShape = partitionShape.clone();
        partitions = List.copyOf(partitions);
    }

    /** The partitions on {@code client}'s instance (see {@link GlobalDataFrame#localPartitions}). */
    public List<ObjectId> localPartitions(Client client) {
        return GlobalDataFrame.localOf(partitions, client);
    }
}
