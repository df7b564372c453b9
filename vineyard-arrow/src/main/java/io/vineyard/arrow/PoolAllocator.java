package io.vineyard.arrow;

import io.vineyard.client.BlobWriter;
import io.vineyard.client.IpcClient;
import io.vineyard.common.VineyardException;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.BufferLedger;
import org.apache.arrow.memory.ReferenceManager;
import org.apache.arrow.memory.RootAllocator;

/**
 * Arrow allocators whose memory is vineyard blobs: a producer builds its vectors directly in the daemon's
 * shared-memory pool, and {@code client.put(root)} then only seals those blobs and describes them (no copy
 * of the data; see below for validity bitmaps).
 *
 * <pre>{@code
 * try (BufferAllocator pool = PoolAllocator.root(client);
 *      BigIntVector v = new BigIntVector("x", pool)) {
 *     v.allocateNew(1000);                  // one blob in the pool, not yet sealed
 *     ...                                   // setSafe past the capacity reallocates into a new blob
 *     client.put(new VectorSchemaRoot(List.of(v)));   // seals the blobs: readers see these very bytes
 * }                                         // closing frees the blobs never put; a put object keeps its own
 * }</pre>
 *
 * <p>Design note. Each Arrow allocation ({@link AllocationManager}) is one unsealed blob, created over the
 * client's connection. Releasing an allocation that no put has sealed drops its blob, so an abandoned
 * root, and the old buffer of a vector that grew, leave nothing in the daemon; releasing a sealed one does
 * nothing, the object owns it. Arrow's own accounting (limits, {@link BufferAllocator#close()}'s leak
 * check) applies as to any allocator.
 *
 * <p>What is copied: Arrow allocates a fixed-width vector's (or an offsets buffer's) validity bitmap as a
 * slice in the same allocation, after the data. A vineyard blob member names a whole blob, so a buffer
 * that starts anywhere but at its allocation's first byte is copied into a blob of its own at put: the
 * bitmaps, 1/65 of an int64 column. Every other buffer is put in place.
 *
 * <p>Only over IPC: over RPC a blob is a local buffer uploaded at seal, a copy anyway.
 *
 * <p>Contract. A put buffer is the object's: keep reading it while the object lives, never write it
 * again (Arrow buffers cannot be made read-only). The client must outlive the allocator's buffers.
 */
public final class PoolAllocator {
    private PoolAllocator() {
    }

    /** A root allocator with no limit whose buffers are blobs created by {@code client}. */
    public static BufferAllocator root(IpcClient client) {
        return root(client, Long.MAX_VALUE);
    }

    /** A root allocator of at most {@code limitBytes} whose buffers are blobs created by {@code client}. */
    public static BufferAllocator root(IpcClient client, long limitBytes) {
        if (client == null) {
            throw new VineyardException.Invalid("PoolAllocator: client is null");
        }
        return new RootAllocator(RootAllocator.configBuilder().allocationManagerFactory(new Factory(client))
                .maxAllocation(limitBytes).build());
    }

    /**
     * The unsealed or sealed blob that starts exactly at {@code buf}'s first byte when {@code buf} was
     * allocated by a pool allocator, else null (a slice inside an allocation, or other memory).
     */
    static BlobWriter blobAt(ArrowBuf buf) {
        if (buf.getReferenceManager() instanceof BufferLedger ledger
                && ledger.getAllocationManager() instanceof BlobAllocation a && a.address == buf.memoryAddress()) {
            return a.writer;
        }
        return null;
    }

    /** True when {@code buf} lies in a blob of a pool allocator. */
    public static boolean isPoolBuffer(ArrowBuf buf) {
        return buf.getReferenceManager() instanceof BufferLedger ledger
                && ledger.getAllocationManager() instanceof BlobAllocation;
    }

    private record Factory(IpcClient client) implements AllocationManager.Factory {
        /** Zero bytes need no blob (Arrow asks for empty buffers through {@link #empty()}). */
        private static final ArrowBuf EMPTY = new ArrowBuf(ReferenceManager.NO_OP, null, 0, 0);

        @Override
        public AllocationManager create(BufferAllocator accountingAllocator, long size) {
            return new BlobAllocation(accountingAllocator, client.createBlob(size).keepOnFailedPut());
        }

        @Override
        public ArrowBuf empty() {
            return EMPTY;
        }
    }

    /** One Arrow allocation: one blob. */
    private static final class BlobAllocation extends AllocationManager {
        private final BlobWriter writer;
        private final long address;

        BlobAllocation(BufferAllocator accountingAllocator, BlobWriter writer) {
            super(accountingAllocator);
            this.writer = writer;
            this.address = writer.size() == 0 ? 0 : writer.segment().address();
        }

        @Override
        public long getSize() {
            return writer.size();
        }

        @Override
        protected long memoryAddress() {
            return address;
        }

        @Override
        protected void release0() {
            writer.abort();   // drops the blob unless a put sealed it
        }
    }
}
