package io.vineyard.client;

/**
 * What the daemon reports about itself ({@code instance_status}).
 *
 * @param instanceId     the daemon's instance id
 * @param memoryUsage    bytes of the pool in use by blobs
 * @param memoryLimit    the pool's size limit in bytes
 * @param ipcConnections open IPC connections
 * @param rpcConnections open RPC connections
 */
public record InstanceStatus(long instanceId, long memoryUsage, long memoryLimit, long ipcConnections, long rpcConnections) {
}
