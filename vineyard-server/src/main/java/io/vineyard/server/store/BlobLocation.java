package io.vineyard.server.store;

/**
 * Where one blob's bytes are, as a client maps them.
 *
 * @param id         the blob id
 * @param storeKey   the name of the file on the wire ({@code store_fd}): the pool's fd number, a disk
 *                   file's never-reused key, or -1 for the empty blob
 * @param fd         the daemon's fd to pass for that file, or -1 when none is needed
 * @param dataOffset offset of the bytes in the file
 * @param dataSize   number of bytes
 * @param mapSize    bytes a client maps of the file ({@code map_size})
 * @param pointer    the daemon's own address of the bytes (vineyard reports it; clients ignore it)
 * @param sealed     whether the blob is sealed
 */
public record BlobLocation(long id, int storeKey, int fd, long dataOffset, long dataSize, long mapSize,
                           long pointer, boolean sealed) {
}
