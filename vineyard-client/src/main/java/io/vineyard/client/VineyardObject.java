package io.vineyard.client;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An object got from the daemon: its metadata tree and the bytes of every blob in it, which the daemon
 * keeps for this client (it frees a deleted blob only after every holder released it) until the last
 * reference to this object is closed. References are counted: {@link #retain()} gives another one (each
 * resolved value and each Arrow buffer holds one), {@link #close()} drops the first.
 */
public final class VineyardObject implements Hold {
    private final AbstractClient client;
    private final ObjectMeta meta;
    private final Map<ObjectId, Blob> blobs;
    private final long[] heldIds;
    private final AtomicInteger refs = new AtomicInteger(1);
    private final AtomicBoolean firstClosed = new AtomicBoolean();
    private final Runnable onFree;

    VineyardObject(AbstractClient client, ObjectMeta meta, Map<ObjectId, Blob> blobs, long[] heldIds, Runnable onFree) {
        this.client = client;
        this.onFree = onFree;
        this.meta = meta;
        this.blobs = blobs;
        this.heldIds = heldIds;
    }

    /** The object's id. */
    public ObjectId id() {
        return meta.id();
    }

    /** The metadata tree. */
    public ObjectMeta meta() {
        return meta;
    }

    /** The client this object was got through. */
    public Client client() {
        return client;
    }

    /**
     * The bytes of a blob of this object, read-only.
     *
     * @param blobEntry a blob entry of {@link #meta()} (or any entry with the blob's id)
     * @throws VineyardException.ObjectNotExists when the blob is not part of this object
     */
    public Blob blob(ObjectMeta blobEntry) {
        ObjectId id = blobEntry.id();
        if (id == null) {
            throw new VineyardException.Invalid(meta.what() + ": blob entry without an id");
        }
        return blob(id);
    }

    /** The bytes of the blob {@code id} of this object, read-only. */
    public Blob blob(ObjectId id) {
        Blob b = blobs.get(id);
        if (b == null) {
            long owner = meta.blobs().stream().filter(e -> id.equals(e.id())).mapToLong(ObjectMeta::instanceId)
                    .findFirst().orElse(client.instanceId());
            if (owner != client.instanceId()) {
                throw new VineyardException.ObjectNotExists("get " + meta.what() + ": its blob " + id + " is held by"
                        + " instance i" + owner + ", not this client's i" + client.instanceId()
                        + ": fetchObject(id) migrates the object here first");
            }
            throw new VineyardException.ObjectNotExists("get " + meta.what() + ": its blob " + id
                    + " is missing (deleted, or not sealed)");
        }
        return b;
    }

    /** A view of one blob that holds its own reference to this object: closing the blob releases it. */
    public Blob retainBlob(ObjectId id) {
        Blob b = blob(id);
        return new Blob(b.id(), b.segment(), retain());
    }

    /** Every blob of the object. */
    public Map<ObjectId, Blob> blobs() {
        return blobs;
    }

    /**
     * Another reference: the blobs stay held until it is closed too. Closing the returned handle more than
     * once has no further effect.
     */
    public Hold retain() {
        if (refs.getAndUpdate(r -> r > 0 ? r + 1 : r) <= 0) {
            throw new VineyardException(Status.OBJECT_NOT_EXISTS, meta.what() + " was already released");
        }
        AtomicBoolean done = new AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true)) {
                dropRef();
            }
        };
    }

    /** Like {@link #retain()}, and also keeps the client's mappings alive past its close (raw native views). */
    public Hold retainNative() {
        Hold ref = retain();
        client.pinMappings();
        AtomicBoolean done = new AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true)) {
                try {
                    ref.close();
                } finally {
                    client.unpinMappings();
                }
            }
        };
    }

    /** Current number of references (for tests). */
    public int refCount() {
        return refs.get();
    }

    /** Drops the first reference (the one {@code getObject} returned); idempotent. */
    @Override
    public void close() {
        if (firstClosed.compareAndSet(false, true)) {
            dropRef();
        }
    }

    private void dropRef() {
        if (refs.decrementAndGet() == 0) {
            try {
                client.releaseHolds(heldIds);
            } finally {
                if (onFree != null) {
                    onFree.run();
                }
            }
        }
    }

    @Override
    public String toString() {
        return "VineyardObject[" + meta.what() + ", " + blobs.size() + " blobs]";
    }
}
