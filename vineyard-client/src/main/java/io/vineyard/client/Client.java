package io.vineyard.client;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.Registry;

import java.time.Duration;
import java.util.List;

/**
 * A connection to a vineyardd: put values, get them back, manage names and lifetimes. Thread-safe;
 * requests are serialised on the connection. Close it to release every mapping and every hold.
 *
 * <pre>{@code
 * try (Client client = IpcClient.connect("/var/run/vineyard.sock")) {
 *     ObjectId id = client.putNamed(Tensor.of(new double[] {1, 2, 3, 4}, 2, 2), "my-tensor");
 *     try (Tensor t = client.get("my-tensor", Tensor.class)) {
 *         double x = t.getDouble(3);                                   // 4.0
 *     }
 *     ObjectId later = client.waitName("written-later", Duration.ofSeconds(5)); // or WaitTimeoutException
 * }
 * }</pre>
 *
 * Built-in values: {@link Blob}, {@code Tensor}, {@code Array}, {@code Scalar} (and boxed Java scalars,
 * {@code String}), {@code DataFrame}, {@code Sequence}, {@code Tuple}, {@code Hashmap}, {@code GlobalTensor},
 * {@code GlobalDataFrame} (package {@code io.vineyard.client.types}); Arrow values with vineyard-arrow.
 */
public interface Client extends AutoCloseable {
    /** The instance id of the daemon. */
    long instanceId();

    /** A new writable blob of {@code sizeBytes} (over IPC, in the daemon's pool). */
    BlobWriter createBlob(long sizeBytes);

    /**
     * Stores {@code value} with its registered builder, transient and unnamed; an {@link ObjectMeta} is
     * created as is. Everything is created in one request once the blobs are written, all or nothing: when
     * the build or the request fails, the blobs written for it are dropped.
     *
     * @return the new object's id
     */
    ObjectId put(Object value);

    /**
     * Stores {@code value}, persists it and names it {@code name}: one request after the blob writes.
     *
     * @throws io.vineyard.common.VineyardException.Invalid when {@code name} is null or empty
     */
    ObjectId putNamed(Object value, String name);

    /** Stores {@code value} as {@code options} say (name, persist, inputs for its builder). */
    ObjectId put(Object value, PutOptions options);

    /**
     * Creates the object described by {@code meta} in one request: seals its unsealed blob members, creates
     * the metadata (members without an id are created too), persists and names it when asked.
     *
     * @param name null for none (a name implies persist)
     * @return {@code meta}, with its id, signature and instance id filled in
     */
    ObjectMeta putMeta(ObjectMeta meta, boolean persist, String name);

    /**
     * Reads an object as {@code type} with its registered resolver (one request). Values that view shared
     * memory are {@link AutoCloseable}: close them to release the daemon's blobs.
     *
     * @param resolverInputs extra inputs for resolvers, matched by type (for example an Arrow allocator);
     *                       a String is refused ({@code Invalid}), it is never an input
     * @throws io.vineyard.common.VineyardException.ObjectNotExists when there is no such object
     */
    <T> T get(ObjectId id, Class<T> type, Object... resolverInputs);

    /** Reads the object named {@code name} as {@code type}: one request. */
    <T> T get(String name, Class<T> type, Object... resolverInputs);

    /** The object's metadata and blobs (held until closed), one request. */
    VineyardObject getObject(ObjectId id);

    /** The named object's metadata and blobs (held until closed), one request. */
    VineyardObject getObject(String name);

    /**
     * Like {@link #getObject(String)}, waiting until the name exists, at most the client's timeout.
     *
     * @throws WaitTimeoutException when the name did not appear in time (the client stays usable)
     */
    VineyardObject waitObject(String name);

    /**
     * Like {@link #getObject(String)}, waiting at most {@code timeout} for the name to exist.
     *
     * @throws WaitTimeoutException when the name did not appear in time (the client stays usable)
     */
    VineyardObject waitObject(String name, Duration timeout);

    /**
     * The object named {@code name}, waiting at most {@code timeout} for the name to exist. The wait runs
     * on a short-lived second connection to the daemon, so a timeout never leaves a reply owed on this
     * client's connection: the next request works, whether or not the name appears later.
     *
     * @throws WaitTimeoutException when the name did not appear in time
     */
    ObjectId waitName(String name, Duration timeout);

    /** The object's metadata only (no blobs held). */
    default ObjectMeta getMeta(ObjectId id) {
        return getMeta(id, false);
    }

    /**
     * The object's metadata only (no blobs held). With {@code syncRemote} the daemon first applies
     * everything the cluster's metadata store (etcd) holds at the time of the call (vineyard's
     * {@code GetMetaData(id, meta, sync_remote)}), so an object another instance has just persisted is
     * found although this daemon's watch has not delivered it yet.
     */
    ObjectMeta getMeta(ObjectId id, boolean syncRemote);

    /** True when the object exists. */
    boolean exists(ObjectId id);

    /** Makes the object (and its members) persistent. */
    void persist(ObjectId id);

    /** Names a persistent object. */
    void putName(ObjectId id, String name);

    /**
     * The object named {@code name}, without waiting.
     *
     * @throws io.vineyard.common.VineyardException.ObjectNotExists when there is no such name
     */
    ObjectId getName(String name);

    /** Removes a name. */
    void dropName(String name);

    /** Deletes objects and, when no other object uses them, their members and blobs. */
    void delete(ObjectId... ids);

    /**
     * Deletes objects; with {@code deep} (what {@link #delete(ObjectId...)} does) also their members and
     * blobs that no other object uses, without it only the objects themselves (vineyard's
     * {@code delete(id, deep=False)}).
     */
    void delete(boolean deep, ObjectId... ids);

    /** Objects whose typename matches the glob {@code pattern}, at most {@code limit}. */
    List<ObjectMeta> list(String pattern, int limit);

    /** The daemon's status: memory usage and limit, connections. */
    InstanceStatus status();

    /**
     * Every instance of the cluster as the daemon knows it ({@code cluster_meta}): {@code i<n>} ->
     * {@code hostname}, {@code rpc_endpoint}, {@code ipc_socket}, ... On the local backend, this instance only.
     */
    com.fasterxml.jackson.databind.node.ObjectNode clusterMeta();

    /**
     * A copy of the object on this client's instance (vineyard's {@code migrate_object}): the object's
     * own id when it is local, else the id of a local copy with the same signature, pulled from the
     * instance that holds it (once, however many clients ask at the same time).
     */
    ObjectId migrate(ObjectId id);

    /**
     * As {@link #getObject(ObjectId)}, migrating the object here first when another instance holds it
     * (vineyard's {@code get(id, fetch=True)}); global objects are got as they are.
     */
    VineyardObject fetchObject(ObjectId id);

    /**
     * Spills the blobs of these objects (or blobs) to the daemon's {@code --spill_path} now, freeing their
     * pool memory; a later get reloads them. Blobs already on disk are skipped.
     *
     * @return the number of blobs spilled
     * @throws io.vineyard.common.VineyardException.Invalid when spilling is off or a blob is in use (held by
     *         a connection, this one included, or pinned): nothing is spilled then
     */
    int evict(ObjectId... ids);

    /**
     * Brings the blobs of these objects back into the pool; with {@code pin} they are never spilled until
     * {@link #unpin}.
     *
     * @throws io.vineyard.common.VineyardException.NotEnoughMemory when the pool cannot make room for them
     */
    void load(boolean pin, ObjectId... ids);

    /** Lets the daemon spill these objects' blobs again. */
    void unpin(ObjectId... ids);

    /** True when a blob of the object is in a spill file now (false for an unknown id). */
    boolean isSpilled(ObjectId id);

    /**
     * True when a blob of the object is held by some connection, pinned, or a stream chunk: it cannot be
     * spilled now (false for an unknown id).
     */
    boolean isInUse(ObjectId id);

    /**
     * Returns the pages of the daemon's free pool memory to the OS ({@code memory_trim}).
     *
     * @return the bytes of free pool memory trimmed
     */
    long memoryTrim();

    /** The builders and resolvers this client uses. */
    Registry registry();

    /**
     * True when this client puts and gets whole objects with the daemon's extension requests (one
     * request each), which it does only when the daemon advertises them in {@code register_reply};
     * false: vineyard's standard requests (as against vineyard's own vineyardd), same API and types.
     */
    boolean usesExtensions();

    /** Request frames written so far (the round trips of this client). */
    long requestCount();

    /**
     * Sends the releases of closed values now. They are otherwise sent with the next request (or
     * dropped by the daemon at disconnect): until then a deleted object's memory stays held by this client.
     */
    void flushReleases();

    /** True once closed. */
    boolean isClosed();

    /**
     * Closes the connection: the daemon releases every hold; the mappings are unmapped (views then throw),
     * except while Arrow buffers still use them (unmapped when the last is released).
     */
    @Override
    void close();
}
