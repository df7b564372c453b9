package io.vineyard.server.meta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobStore;
import io.vineyard.server.store.BlobLinks;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The metadata tree of one daemon on the local backend: objects, their member links, names, labels,
 * persistence flags and the deletion rules of vineyard (spec 2.2-2.7).
 *
 * <p>Design note. Objects are stored flat: an {@link ObjectEntry} keeps its plain fields and a map from
 * member key to member id, and a reverse index keeps each id's parents. {@code get_data} rebuilds the
 * nested JSON form vineyard's clients expect. Blobs never enter this tree; blob members are resolved
 * against the {@link BlobStore} when the tree is rebuilt. On the local backend {@code persist} only
 * flips {@code transient}; the etcd backend will publish the same entries.
 *
 * <p>Not thread-safe: every method runs under the daemon's store lock.
 */
public final class MetaStore {
    private final BlobStore blobs;
    private final ObjectIds ids;
    private final long instanceId;
    private final LongSupplier clockMs;
    private final Map<Long, ObjectEntry> objects = new LinkedHashMap<>();
    private final Map<Long, Set<Long>> parents = new HashMap<>();
    private final Map<String, Long> names = new TreeMap<>();

    /** Told of the changes requests can wait for; called under the store lock. */
    public interface Listener {
        /** An object (or a member created with it) now exists. */
        void objectCreated(long id);

        /** {@code name} now names an object. */
        void nameBound(String name);
    }

    private static final Listener NOBODY = new Listener() {
        @Override
        public void objectCreated(long id) {
        }

        @Override
        public void nameBound(String name) {
        }
    };

    private final Listener listener;

    public MetaStore(BlobStore blobs, ObjectIds ids, long instanceId, LongSupplier clockMs) {
        this(blobs, ids, instanceId, clockMs, NOBODY);
    }

    public MetaStore(BlobStore blobs, ObjectIds ids, long instanceId, LongSupplier clockMs, Listener listener) {
        this.listener = listener;
        this.blobs = blobs;
        this.ids = ids;
        this.instanceId = instanceId;
        this.clockMs = clockMs;
    }

    /** One object, stored flat. */
    static final class ObjectEntry {
        final long id;
        final ObjectNode fields;
        final Map<String, Long> members = new LinkedHashMap<>();
        /** The metadata the creator gave for each blob member (length, nbytes). */
        final Map<String, ObjectNode> blobMeta = new HashMap<>();

        ObjectEntry(long id, ObjectNode fields) {
            this.id = id;
            this.fields = fields;
        }

        boolean isTransient() {
            JsonNode t = fields.get("transient");
            return t == null || !t.isBoolean() || t.booleanValue();
        }

        String typename() {
            JsonNode t = fields.get("typename");
            return t == null ? "" : t.asText();
        }
    }

    /** The outcome of a create: the new id, its signature and instance. */
    public record Created(long id, long signature, long instanceId) {
    }

    public int objectCount() {
        return objects.size();
    }

    /** How many names are bound. */
    public int nameCount() {
        return names.size();
    }

    public boolean exists(long id) {
        return objects.containsKey(id);
    }

    /**
     * Creates an object from its client-side metadata tree. Members given by id must exist; members
     * given in full (without an id) are created too.
     */
    public Created create(JsonNode content) {
        if (content == null || !content.isObject()) {
            throw new VineyardException.Invalid("create_data: 'content' must be a JSON object, got "
                    + (content == null ? "nothing" : content.getNodeType().name().toLowerCase()));
        }
        // validate the whole tree before changing anything, so a bad member leaves no half-made object
        validate(content, "content", 0);
        return createValidated((ObjectNode) content);
    }

    private void validate(JsonNode node, String path, int depth) {
        if (depth > 256) {
            throw new VineyardException.Invalid("create_data: metadata nested deeper than 256 levels at " + path);
        }
        JsonNode typename = node.get("typename");
        if (typename == null || !typename.isTextual()) {
            throw new VineyardException.Invalid("create_data: " + path + " needs a string 'typename'");
        }
        JsonNode sig = node.get("signature");
        if (sig != null && !sig.isIntegralNumber()) {
            throw new VineyardException.Invalid("create_data: " + path + ".signature must be an unsigned integer");
        }
        for (Map.Entry<String, JsonNode> f : node.properties()) {
            if (!f.getValue().isObject()) {
                continue;
            }
            JsonNode member = f.getValue();
            String memberPath = path + "." + f.getKey();
            JsonNode idNode = member.get("id");
            if (idNode != null) {
                long id = Json.readU64(idNode, memberPath + ".id");
                if (!ObjectIds.isBlob(id) && !objects.containsKey(id)) {
                    throw new VineyardException.ObjectNotExists("create_data: member " + memberPath
                            + " refers to " + ObjectIds.toText(id) + ", which does not exist");
                }
            } else {
                validate(member, memberPath, depth + 1);
            }
        }
    }

    private Created createValidated(ObjectNode content) {
        JsonNode sigNode = content.get("signature");
        long signature = sigNode != null ? Json.readU64(sigNode, "signature") : ids.nextObjectId();
        long id = ids.nextObjectId();
        ObjectNode fields = Json.object();
        ObjectEntry entry = new ObjectEntry(id, fields);
        for (Map.Entry<String, JsonNode> f : content.properties()) {
            String key = f.getKey();
            JsonNode value = f.getValue();
            if (value.isObject()) {
                JsonNode idNode = value.get("id");
                long memberId = idNode != null ? Json.readU64(idNode, key + ".id") : createValidated((ObjectNode) value).id;
                entry.members.put(key, memberId);
                if (ObjectIds.isBlob(memberId)) {
                    entry.blobMeta.put(key, (ObjectNode) value);
                }
            } else if (!key.equals("id")) {
                fields.set(key, value);
            }
        }
        fields.set("signature", Json.u64(signature));
        fields.put("instance_id", instanceId);
        if (!fields.has("transient") || !fields.get("transient").isBoolean()) {
            fields.put("transient", true);
        }
        if (!fields.has("nbytes")) {
            fields.put("nbytes", 0);
        }
        fields.put("__timestamp", clockMs.getAsLong());
        objects.put(id, entry);
        for (long member : entry.members.values()) {
            parents.computeIfAbsent(member, k -> new HashSet<>()).add(id);
        }
        if (!entry.isTransient()) {
            persistTree(entry);
        }
        listener.objectCreated(id);
        return new Created(id, signature, instanceId);
    }

    /**
     * The nested metadata of an object (or a blob), or null when it does not exist.
     */
    public ObjectNode get(long id) {
        if (ObjectIds.isBlob(id)) {
            Blob blob = blobs.find(id);
            // the shared empty blob is reported unsealed, yet its metadata is there (as vineyard's)
            return blob == null || !blob.sealed() && id != ObjectIds.EMPTY_BLOB_ID ? null : blobMeta(id, null);
        }
        ObjectEntry entry = objects.get(id);
        return entry == null ? null : rebuild(entry);
    }

    private ObjectNode rebuild(ObjectEntry entry) {
        ObjectNode out = entry.fields.deepCopy();
        out.put("id", ObjectIds.toText(entry.id));
        for (Map.Entry<String, Long> m : entry.members.entrySet()) {
            long memberId = m.getValue();
            if (ObjectIds.isBlob(memberId)) {
                out.set(m.getKey(), blobMeta(memberId, entry.blobMeta.get(m.getKey())));
            } else {
                ObjectEntry member = objects.get(memberId);
                out.set(m.getKey(), member == null ? placeholder(memberId) : rebuild(member));
            }
        }
        return out;
    }

    private static ObjectNode placeholder(long id) {
        ObjectNode p = Json.object();
        p.put("id", ObjectIds.toText(id));
        return p;
    }

    private ObjectNode blobMeta(long id, ObjectNode given) {
        Blob blob = blobs.find(id);
        long length = blob != null ? blob.size() : given != null && given.has("length") ? given.get("length").asLong() : 0;
        ObjectNode b = Json.object();
        b.put("id", ObjectIds.toText(id));
        b.put("instance_id", instanceId);
        b.put("length", length);
        b.put("nbytes", length);
        b.put("transient", true);
        b.put("typename", "vineyard::Blob");
        return b;
    }

    /**
     * Objects (and sealed blobs) whose typename matches {@code pattern}, as {@code o<hex>} -> tree.
     *
     * @return null when the pattern is an invalid regex
     */
    public ObjectNode list(String pattern, boolean regex, long limit) {
        Predicate<String> match;
        try {
            match = regex ? Pattern.compile(pattern).asMatchPredicate() : Glob.compile(pattern);
        } catch (PatternSyntaxException e) {
            return null;
        }
        long max = limit <= 0 ? Long.MAX_VALUE : limit;
        ObjectNode out = Json.object();
        long count = 0;
        for (ObjectEntry entry : objects.values()) {
            if (count >= max) {
                return out;
            }
            if (match.test(entry.typename())) {
                out.set(ObjectIds.toText(entry.id), rebuild(entry));
                count++;
            }
        }
        if (match.test("vineyard::Blob")) {
            for (Blob blob : blobs.visibleBlobs()) {
                if (count >= max) {
                    break;
                }
                if (blob.sealed()) {
                    out.set(ObjectIds.toText(blob.id()), blobMeta(blob.id(), null));
                    count++;
                }
            }
        }
        return out;
    }

    /**
     * Deletes objects and blobs by vineyard's rules (spec 2.7): an id with parents outside the delete
     * set is kept unless {@code force}, which deletes those parents too; blob members go with their
     * last parent; object members only with {@code deep}.
     *
     * @return the blob ids deleted
     */
    public List<Long> delete(long[] targets, boolean force, boolean deep, BlobLinks by, boolean trim) {
        Set<Long> doomed = new LinkedHashSet<>();
        List<Long> deletedBlobs = new ArrayList<>();
        for (long id : targets) {
            collect(id, force, deep, doomed, true);
            if (force && ObjectIds.isBlob(id) && !doomed.contains(id) && !blobs.exists(id)) {
                deletedBlobs.add(id); // vineyard lists a forced unknown blob id as deleted
            }
        }
        for (long id : doomed) {
            if (ObjectIds.isBlob(id)) {
                if (blobs.delete(id, by, trim)) {
                    deletedBlobs.add(id);
                }
            } else {
                removeObject(id);
            }
        }
        return deletedBlobs;
    }

    private void collect(long id, boolean force, boolean deep, Set<Long> doomed, boolean explicit) {
        if (doomed.contains(id)) {
            return;
        }
        boolean blob = ObjectIds.isBlob(id);
        if (blob ? !blobs.exists(id) : !objects.containsKey(id)) {
            return;
        }
        Set<Long> others = outsideParents(id, doomed);
        if (!others.isEmpty()) {
            if (!force || !explicit && blob) {
                return;
            }
            doomed.add(id);
            for (long parent : others) {
                collect(parent, true, deep, doomed, true);
            }
        }
        doomed.add(id);
        ObjectEntry entry = objects.get(id);
        if (entry == null) {
            return;
        }
        for (long member : entry.members.values()) {
            if (ObjectIds.isBlob(member) || deep) {
                collect(member, false, deep, doomed, false);
            }
        }
    }

    private Set<Long> outsideParents(long id, Set<Long> doomed) {
        Set<Long> ps = parents.get(id);
        if (ps == null || ps.isEmpty()) {
            return Set.of();
        }
        Set<Long> out = new HashSet<>();
        for (long p : ps) {
            if (!doomed.contains(p) && objects.containsKey(p)) {
                out.add(p);
            }
        }
        return out;
    }

    private void removeObject(long id) {
        ObjectEntry entry = objects.remove(id);
        if (entry == null) {
            return;
        }
        for (long member : entry.members.values()) {
            Set<Long> ps = parents.get(member);
            if (ps != null) {
                ps.remove(id);
                if (ps.isEmpty()) {
                    parents.remove(member);
                }
            }
        }
        names.values().removeIf(v -> v == id);
    }

    /**
     * The bytes of the distinct visible blobs reachable from {@code id} (a blob: its size), or -1 when
     * {@code id} names neither a visible blob nor an object.
     */
    public long blobBytes(long id) {
        if (ObjectIds.isBlob(id)) {
            Blob b = blobs.find(id);
            return b == null ? -1 : b.size();
        }
        if (!objects.containsKey(id)) {
            return -1;
        }
        Set<Long> seen = new HashSet<>();
        ArrayDeque<Long> todo = new ArrayDeque<>(List.of(id));
        long total = 0;
        while (!todo.isEmpty()) {
            long next = todo.pop();
            if (!seen.add(next)) {
                continue;
            }
            if (ObjectIds.isBlob(next)) {
                Blob b = blobs.find(next);
                total += b == null ? 0 : b.size();
            } else {
                ObjectEntry entry = objects.get(next);
                if (entry != null) {
                    todo.addAll(entry.members.values());
                }
            }
        }
        return total;
    }

    /** Deletes every object and name (the blob store clears its blobs itself). */
    public List<Long> clear(BlobLinks by) {
        List<Long> all = new ArrayList<>(objects.keySet());
        for (Blob b : blobs.visibleBlobs()) {
            all.add(b.id());
        }
        long[] targets = all.stream().mapToLong(Long::longValue).toArray();
        List<Long> deleted = delete(targets, true, true, by, true);
        names.clear();
        return deleted;
    }

    /** Marks an object and its transient non-blob members persistent. */
    public void persist(long id) {
        if (ObjectIds.isBlob(id) && blobs.exists(id)) {
            return;
        }
        ObjectEntry entry = objects.get(id);
        if (entry == null) {
            throw new VineyardException(Status.META_TREE_SUBTREE_NOT_EXISTS, "get subtree failed: " + ObjectIds.toText(id));
        }
        persistTree(entry);
    }

    private void persistTree(ObjectEntry entry) {
        entry.fields.put("transient", false);
        for (long member : entry.members.values()) {
            ObjectEntry m = objects.get(member);
            if (m != null && m.isTransient()) {
                persistTree(m);
            }
        }
    }

    /** Whether an object is persistent; blobs never are. */
    public boolean isPersistent(long id) {
        if (ObjectIds.isBlob(id) && blobs.exists(id)) {
            return false;
        }
        ObjectEntry entry = objects.get(id);
        if (entry == null) {
            throw new VineyardException(Status.META_TREE_SUBTREE_NOT_EXISTS, "get subtree failed: " + ObjectIds.toText(id));
        }
        return !entry.isTransient();
    }

    /** Merges labels into an object's {@code __labels} (a JSON-encoded string, as vineyard stores it). */
    public void label(long id, List<String> keys, List<String> values) {
        ObjectEntry entry = objects.get(id);
        if (entry == null) {
            throw new VineyardException.ObjectNotExists("failed to label: object " + ObjectIds.toText(id) + " doesn't exist");
        }
        ObjectNode labels;
        JsonNode existing = entry.fields.get("__labels");
        try {
            JsonNode parsed = existing == null ? null : Json.MAPPER.readTree(existing.asText());
            labels = parsed != null && parsed.isObject() ? (ObjectNode) parsed : Json.object();
        } catch (IOException e) {
            labels = Json.object();
        }
        for (int i = 0; i < keys.size(); i++) {
            labels.put(keys.get(i), values.get(i));
        }
        entry.fields.put("__labels", labels.toString());
    }

    /** Copies an object's top-level fields and member links to a new id, overlaid with {@code extra}. */
    public long shallowCopy(long id, ObjectNode extra) {
        ObjectEntry src = objects.get(id);
        if (src == null) {
            throw new VineyardException.ObjectNotExists("shallow_copy: object " + ObjectIds.toText(id) + " doesn't exist");
        }
        long target = ids.nextObjectId();
        ObjectEntry copy = new ObjectEntry(target, src.fields.deepCopy());
        copy.members.putAll(src.members);
        copy.blobMeta.putAll(src.blobMeta);
        copy.fields.remove("__name");
        if (extra != null) {
            for (Map.Entry<String, JsonNode> f : extra.properties()) {
                if (f.getValue().isContainerNode()) {
                    throw new VineyardException.Invalid("shallow_copy: extra field '" + f.getKey()
                            + "' must be a string, number or bool");
                }
            }
            copy.fields.setAll(extra);
        }
        copy.fields.put("__timestamp", clockMs.getAsLong());
        objects.put(target, copy);
        for (long member : copy.members.values()) {
            parents.computeIfAbsent(member, k -> new HashSet<>()).add(target);
        }
        listener.objectCreated(target);
        return target;
    }

    /** Names a persistent, non-blob object; an existing name moves to the new object (vineyard's rule). */
    public void putName(long id, String name) {
        if (ObjectIds.isBlob(id)) {
            if (!blobs.exists(id)) {
                throw new VineyardException.ObjectNotExists("failed to put name: object " + ObjectIds.toText(id) + " doesn't exist");
            }
            throw new VineyardException.Invalid("blobs cannot have name");
        }
        ObjectEntry entry = objects.get(id);
        if (entry == null) {
            throw new VineyardException.ObjectNotExists("failed to put name: object " + ObjectIds.toText(id) + " doesn't exist");
        }
        if (entry.isTransient()) {
            throw new VineyardException.Invalid("transient objects cannot have name, please persist it first");
        }
        Long previous = names.put(name, id);
        if (previous != null && previous != id) {
            ObjectEntry old = objects.get(previous);
            if (old != null) {
                old.fields.remove("__name");
            }
        }
        entry.fields.put("__name", name);
        listener.nameBound(name);
    }

    /** The object named {@code name}, or null. */
    public Long getName(String name) {
        return names.get(name);
    }

    /** Removes a name; a missing name is not an error. */
    public void dropName(String name) {
        Long id = names.remove(name);
        if (id != null) {
            ObjectEntry entry = objects.get(id);
            if (entry != null) {
                entry.fields.remove("__name");
            }
        }
    }

    /**
     * Names matching a glob or regex, at most {@code limit}.
     *
     * @return null when the regex is invalid
     */
    public Map<String, Long> listNames(String pattern, boolean regex, long limit) {
        Predicate<String> match;
        try {
            match = regex ? Pattern.compile(pattern).asMatchPredicate() : Glob.compile(pattern);
        } catch (PatternSyntaxException e) {
            return null;
        }
        long max = limit <= 0 ? Long.MAX_VALUE : limit;
        Map<String, Long> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, Long>> it = names.entrySet().iterator(); it.hasNext() && out.size() < max; ) {
            Map.Entry<String, Long> e = it.next();
            if (match.test(e.getKey())) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }
}
