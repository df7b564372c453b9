package io.vineyard.client.meta;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.ObjectId;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An object's metadata tree with vineyard's encodings (spec 2.2).
 *
 * <ul>
 *   <li>Reserved keys: {@code id} ({@code "o..."}), {@code typename} (C++ spelling), {@code instance_id},
 *       {@code signature}, {@code transient}, {@code global}, {@code nbytes}, {@code __name},
 *       {@code __labels} (a JSON-encoded map).</li>
 *   <li>Scalars are JSON scalars; vectors, tuples and maps are a JSON string holding JSON
 *       ({@code "shape_": "[3,4]"}): {@link #putJson} writes them, {@link #getJson} reads them.</li>
 *   <li>Members are nested metadata ({@link #addMember(String, ObjectMeta)}), by id only (a placeholder
 *       the daemon resolves, {@link #addMember(String, ObjectId)}), or blobs
 *       ({@link #addBlob(String, ObjectId, long)}).</li>
 * </ul>
 *
 * Not thread-safe; build one on one thread, then hand it over.
 */
public final class ObjectMeta {
    /** The typename of blobs. */
    public static final String BLOB_TYPENAME = "vineyard::Blob";

    private final LinkedHashMap<String, Object> entries = new LinkedHashMap<>();
    /** Set on blob members written by this process and not yet sealed (sealed by the put). */
    private Object pendingBlob;

    /** Empty metadata with a typename. */
    public ObjectMeta(String typename) {
        if (typename != null) {
            entries.put("typename", Json.NODES.textNode(typename));
        }
    }

    /** Metadata from a JSON tree as the daemon sends it (nested objects become members). */
    public static ObjectMeta fromJson(JsonNode tree) {
        if (tree == null || !tree.isObject()) {
            throw new VineyardException.Invalid("metadata must be a JSON object, got " + (tree == null ? "nothing" : tree.getNodeType()));
        }
        ObjectMeta meta = new ObjectMeta(null);
        for (Map.Entry<String, JsonNode> e : tree.properties()) {
            JsonNode v = e.getValue();
            meta.entries.put(e.getKey(), v.isObject() ? fromJson(v) : v);
        }
        return meta;
    }

    /** The JSON tree, members nested, as sent to the daemon. */
    public ObjectNode toJson() {
        ObjectNode out = Json.object();
        for (Map.Entry<String, Object> e : entries.entrySet()) {
            Object v = e.getValue();
            out.set(e.getKey(), v instanceof ObjectMeta m ? m.toJson() : (JsonNode) v);
        }
        return out;
    }

    /** A deep copy (pending blob writers are shared, not copied). */
    public ObjectMeta copy() {
        ObjectMeta c = new ObjectMeta(null);
        for (Map.Entry<String, Object> e : entries.entrySet()) {
            Object v = e.getValue();
            c.entries.put(e.getKey(), v instanceof ObjectMeta m ? m.copy() : ((JsonNode) v).deepCopy());
        }
        c.pendingBlob = pendingBlob;
        return c;
    }

    // ---- reserved keys ---------------------------------------------------------------------------

    /** The C++-style typename, e.g. {@code vineyard::Tensor<double>}, or null. */
    public String typename() {
        JsonNode t = value("typename");
        return t == null ? null : t.asText();
    }

    /** The object's id, or null before it was created. */
    public ObjectId id() {
        JsonNode v = value("id");
        return v == null || v.isNull() ? null : new ObjectId(Json.readU64(v, "id"));
    }

    /** Sets the id (used when the daemon created the object). */
    public ObjectMeta setId(ObjectId id) {
        entries.put("id", Json.NODES.textNode(id.toString()));
        return this;
    }

    /** The signature, or null. */
    public Long signature() {
        JsonNode v = value("signature");
        return v == null || v.isNull() ? null : Json.readU64(v, "signature");
    }

    /** The instance that holds the object, or -1 when unknown. */
    public long instanceId() {
        JsonNode v = value("instance_id");
        return v == null || !v.isNumber() ? -1 : Json.readU64(v, "instance_id");
    }

    /** {@code nbytes} (0 when absent). */
    public long nbytes() {
        return getLong("nbytes", 0);
    }

    /** Sets {@code nbytes}. */
    public ObjectMeta setNbytes(long nbytes) {
        return put("nbytes", nbytes);
    }

    /** True unless the object was persisted. */
    public boolean isTransient() {
        JsonNode v = value("transient");
        return v == null || v.asBoolean(true);
    }

    /** True for global objects (members may live on other instances). */
    public boolean isGlobal() {
        JsonNode v = value("global");
        return v != null && v.asBoolean(false);
    }

    /** Marks the object global or not. */
    public ObjectMeta setGlobal(boolean global) {
        return put("global", global);
    }

    /** The name given with {@code put_name} ({@code __name}), or null. */
    public String name() {
        JsonNode v = value("__name");
        return v == null || v.isNull() ? null : v.asText();
    }

    /** The labels ({@code __labels}, a JSON-encoded map); empty when none. */
    public Map<String, String> labels() {
        JsonNode labels = getJson("__labels");
        if (labels == null || !labels.isObject()) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        labels.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return Collections.unmodifiableMap(out);
    }

    /** True for blob entries. */
    public boolean isBlob() {
        if (BLOB_TYPENAME.equals(typename())) {
            return true;
        }
        ObjectId id = id();
        return id != null && id.isBlob() && typename() == null;
    }

    /** True for a member given by id only, which the daemon resolves when the parent is created. */
    public boolean isPlaceholder() {
        return entries.size() == 1 && entries.containsKey("id");
    }

    // ---- values ----------------------------------------------------------------------------------

    /** Stores a number. */
    public ObjectMeta put(String key, long value) {
        return set(key, Json.NODES.numberNode(value));
    }

    /** Stores a number. */
    public ObjectMeta put(String key, double value) {
        return set(key, Json.NODES.numberNode(value));
    }

    /** Stores a boolean. */
    public ObjectMeta put(String key, boolean value) {
        return set(key, Json.NODES.booleanNode(value));
    }

    /** Stores a string. */
    public ObjectMeta put(String key, String value) {
        return set(key, value == null ? Json.NODES.nullNode() : Json.NODES.textNode(value));
    }

    /** Stores a JSON value as is (a JSON scalar stays a scalar). */
    public ObjectMeta putNode(String key, JsonNode value) {
        return set(key, value);
    }

    /**
     * Stores a value the way vineyard stores vectors, tuples and maps: as a string holding its JSON
     * ({@code List.of(3, 4)} becomes {@code "[3,4]"}). Accepts anything Jackson serialises.
     */
    public ObjectMeta putJson(String key, Object value) {
        try {
            String text = value instanceof JsonNode n ? Json.MAPPER.writeValueAsString(n) : Json.MAPPER.writeValueAsString(value);
            return set(key, Json.NODES.textNode(text));
        } catch (JsonProcessingException e) {
            throw new VineyardException(Status.INVALID, "cannot encode '" + key + "' as JSON", e);
        }
    }

    private ObjectMeta set(String key, JsonNode value) {
        if (key == null || key.isEmpty()) {
            throw new VineyardException.Invalid("metadata keys must be non-empty strings");
        }
        entries.put(key, value);
        return this;
    }

    /** True when {@code key} is present (value or member). */
    public boolean has(String key) {
        return entries.containsKey(key);
    }

    /** Removes a key (value or member). */
    public ObjectMeta remove(String key) {
        entries.remove(key);
        return this;
    }

    /** The plain value at {@code key}, or null when absent or a member. */
    public JsonNode value(String key) {
        return entries.get(key) instanceof JsonNode n ? n : null;
    }

    /** A number (numbers and numeric strings accepted). */
    public long getLong(String key) {
        JsonNode v = value(key);
        if (v == null) {
            throw missing(key);
        }
        if (v.isTextual()) {
            try {
                return Long.parseLong(v.textValue().trim());
            } catch (NumberFormatException e) {
                throw new VineyardException(Status.META_TREE_INVALID, what() + ": '" + key + "' is not a number: " + v.textValue());
            }
        }
        return v.isBigInteger() ? v.bigIntegerValue().longValue() : v.asLong();
    }

    /** A number, or {@code fallback} when absent. */
    public long getLong(String key, long fallback) {
        return value(key) == null ? fallback : getLong(key);
    }

    /** A floating-point number. */
    public double getDouble(String key) {
        JsonNode v = value(key);
        if (v == null) {
            throw missing(key);
        }
        return v.asDouble();
    }

    /** A boolean, or {@code fallback} when absent. */
    public boolean getBoolean(String key, boolean fallback) {
        JsonNode v = value(key);
        return v == null ? fallback : v.asBoolean(fallback);
    }

    /** A string, or null when absent. */
    public String getString(String key) {
        JsonNode v = value(key);
        return v == null || v.isNull() ? null : v.asText();
    }

    /** A JSON-in-string value decoded ({@code "[3,4]"} gives an array node); non-strings pass through. */
    public JsonNode getJson(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            return v;
        }
        try {
            return Json.MAPPER.readTree(v.textValue());
        } catch (JsonProcessingException e) {
            throw new VineyardException(Status.META_TREE_INVALID, what() + ": '" + key + "' is not JSON: " + v.textValue());
        }
    }

    /** A JSON-in-string list of integers ({@code shape_}); a bare number is a list of one. */
    public long[] getLongList(String key) {
        JsonNode v = getJson(key);
        if (v == null) {
            throw missing(key);
        }
        if (v.isNumber()) {
            return new long[] {v.asLong()};
        }
        long[] out = new long[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i).asLong();
        }
        return out;
    }

    // ---- members ---------------------------------------------------------------------------------

    /** Adds a member by value (created with the parent when it has no id). */
    public ObjectMeta addMember(String name, ObjectMeta member) {
        entries.put(name, member);
        return this;
    }

    /** Adds a member by id: an existing object (a placeholder the daemon resolves) or a blob. */
    public ObjectMeta addMember(String name, ObjectId id) {
        if (id.isBlob()) {
            return addBlob(name, id, id.equals(ObjectId.EMPTY_BLOB) ? 0 : -1);
        }
        ObjectMeta placeholder = new ObjectMeta(null);
        placeholder.entries.put("id", Json.NODES.textNode(id.toString()));
        entries.put(name, placeholder);
        return this;
    }

    /** Adds a blob member ({@code sizeBytes} -1 when unknown: the daemon fills it in). */
    public ObjectMeta addBlob(String name, ObjectId blobId, long sizeBytes) {
        entries.put(name, blobEntry(blobId, sizeBytes, -1));
        return this;
    }

    /** A blob entry as vineyard writes it: {@code {id, typename, length, nbytes, instance_id, transient}}. */
    public static ObjectMeta blobEntry(ObjectId blobId, long sizeBytes, long instanceId) {
        ObjectMeta b = new ObjectMeta(null);
        b.entries.put("id", Json.NODES.textNode(blobId.toString()));
        if (instanceId >= 0) {
            b.put("instance_id", instanceId);
        }
        if (sizeBytes >= 0) {
            b.put("length", sizeBytes);
            b.put("nbytes", sizeBytes);
        }
        b.put("transient", true);
        b.put("typename", BLOB_TYPENAME);
        return b;
    }

    /** Marks a blob entry as written by this process and still unsealed (the client's put seals it). */
    public ObjectMeta withPendingBlob(Object writer) {
        this.pendingBlob = writer;
        return this;
    }

    /** The unsealed writer behind a blob entry, or null. */
    public Object pendingBlob() {
        return pendingBlob;
    }

    /** True when {@code name} is a member. */
    public boolean hasMember(String name) {
        return entries.get(name) instanceof ObjectMeta;
    }

    /**
     * The member {@code name}.
     *
     * @throws VineyardException (META_TREE_SUBTREE_NOT_EXISTS) when there is none
     */
    public ObjectMeta member(String name) {
        if (entries.get(name) instanceof ObjectMeta m) {
            return m;
        }
        throw new VineyardException.ObjectNotExists(Status.META_TREE_SUBTREE_NOT_EXISTS,
                what() + " has no member '" + name + "'");
    }

    /** The direct members, in insertion order. */
    public Map<String, ObjectMeta> members() {
        Map<String, ObjectMeta> out = new LinkedHashMap<>();
        entries.forEach((k, v) -> {
            if (v instanceof ObjectMeta m) {
                out.put(k, m);
            }
        });
        return out;
    }

    /** Every key, values and members, in insertion order. */
    public Set<String> keys() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    /** Every blob entry in the tree, depth first, without duplicate ids. */
    public List<ObjectMeta> blobs() {
        Map<ObjectId, ObjectMeta> out = new LinkedHashMap<>();
        collectBlobs(this, out);
        return new ArrayList<>(out.values());
    }

    private static void collectBlobs(ObjectMeta m, Map<ObjectId, ObjectMeta> out) {
        if (m.isBlob()) {
            ObjectId id = m.id();
            if (id != null) {
                out.putIfAbsent(id, m);
            }
            return;
        }
        for (Object v : m.entries.values()) {
            if (v instanceof ObjectMeta child) {
                collectBlobs(child, out);
            }
        }
    }

    /** Every node (this one first, then members depth first), blobs included. */
    public List<ObjectMeta> walk() {
        List<ObjectMeta> out = new ArrayList<>();
        Set<ObjectMeta> seen = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        walk(this, out, seen);
        return out;
    }

    private static void walk(ObjectMeta m, List<ObjectMeta> out, Set<ObjectMeta> seen) {
        if (!seen.add(m)) {
            return;
        }
        out.add(m);
        for (Object v : m.entries.values()) {
            if (v instanceof ObjectMeta child) {
                walk(child, out, seen);
            }
        }
    }

    /** "vineyard::Tensor&lt;double&gt; o..." for messages. */
    public String what() {
        ObjectId id = id();
        String t = typename();
        return (t == null ? "object" : t) + (id == null ? "" : " " + id);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ObjectMeta m && m.toJson().equals(toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "ObjectMeta" + toJson();
    }

    private VineyardException missing(String key) {
        return new VineyardException(Status.META_TREE_INVALID, what() + " has no '" + key + "'");
    }

    /** Distinct ids of every blob, for requests. */
    public long[] blobIds() {
        Set<Long> ids = new LinkedHashSet<>();
        for (ObjectMeta b : blobs()) {
            long id = b.id().value();
            if (id != ObjectIds.EMPTY_BLOB_ID) {
                ids.add(id);
            }
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }
}
