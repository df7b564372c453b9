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
    /**
     * This instance's objects whose delete it committed to the backend and has yet to apply here: the
     * watch reports those deletes back, and applying them as another instance's (shallowly) would
     * leave the members a deep delete takes with them.
     */
    private final Map<Long, Integer> leaving = new HashMap<>();

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
        /** Members of a replicated global object linked by signature (resolved when read). */
        final Map<String, Long> sigMembers = new LinkedHashMap<>();
        /** In the shared backend (replicated from it, or committed there by this daemon). */
        boolean published;

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

        long instance() {
            JsonNode i = fields.get("instance_id");
            return i == null ? -1 : i.asLong();
        }

        long signature() {
            JsonNode sig = fields.get("signature");
            return sig == null ? -1 : sig.asLong();
        }

        boolean isGlobal() {
            return fields.path("global").asBoolean(false);
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
        return createAll(java.util.Collections.singletonList(content)).getFirst();   // content may be null: Invalid below
    }

    /**
     * Creates several objects ({@code create_datas}): every tree is validated before any is made, so a
     * bad one leaves none of them behind.
     */
    public List<Created> createAll(List<JsonNode> contents) {
        for (JsonNode content : contents) {
            if (content == null || !content.isObject()) {
                throw new VineyardException.Invalid("create_data: 'content' must be a JSON object, got "
                        + (content == null ? "nothing" : content.getNodeType().name().toLowerCase()));
            }
            // validate the whole tree before changing anything, so a bad member leaves no half-made object
            validate(content, "content", 0);
        }
        List<Created> made = new ArrayList<>(contents.size());
        for (JsonNode content : contents) {
            made.add(createValidated((ObjectNode) content));
        }
        return made;
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
        if (!entry.isTransient()) {
            persistTree(entry);
        }
        install(entry);
        return new Created(id, signature, instanceId);
    }

    /**
     * The nested metadata of an object (or a blob), or null when it does not exist.
     */
    public ObjectNode get(long id) {
        if (ObjectIds.isBlob(id)) {
            Blob blob = blobs.find(id);
            // the shared empty blob is reported unsealed, yet its metadata is there (as vineyard's)
            return blob == null || !blob.sealed() && id != ObjectIds.EMPTY_BLOB_ID ? null : blobMeta(id, null, instanceId);
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
                out.set(m.getKey(), blobMeta(memberId, entry.blobMeta.get(m.getKey()), entry.instance()));
            } else {
                ObjectEntry member = objects.get(memberId);
                out.set(m.getKey(), member == null ? placeholder(memberId) : rebuild(member));
            }
        }
        for (Map.Entry<String, Long> m : entry.sigMembers.entrySet()) {
            Long memberId = bySignature(m.getValue());
            ObjectEntry member = memberId == null ? null : objects.get(memberId);
            out.set(m.getKey(), member == null ? placeholder(memberId == null ? ObjectIds.INVALID_ID : memberId) : rebuild(member));
        }
        return out;
    }

    private static ObjectNode placeholder(long id) {
        ObjectNode p = Json.object();
        p.put("id", ObjectIds.toText(id));
        return p;
    }

    /** A blob member's metadata; one held by another instance has vineyard's zero lengths (spec 2.3). */
    private ObjectNode blobMeta(long id, ObjectNode given, long owner) {
        Blob blob = owner == instanceId ? blobs.find(id) : null;
        long length = blob != null ? blob.size() : given != null && given.has("length") ? given.get("length").asLong() : 0;
        ObjectNode b = Json.object();
        b.put("id", ObjectIds.toText(id));
        b.put("instance_id", owner);
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
                    out.set(ObjectIds.toText(blob.id()), blobMeta(blob.id(), null, instanceId));
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

    /**
     * The ids {@link #delete} would delete, marked as leaving until {@link #endLeave}: the backend's
     * report of their delete is then left to the local delete that follows the commit.
     */
    public Set<Long> beginLeave(long[] targets, boolean force, boolean deep) {
        Set<Long> doomed = deleteSet(targets, force, deep);
        doomed.forEach(id -> leaving.merge(id, 1, Integer::sum));
        return doomed;
    }

    /** Ends what {@link #beginLeave} marked (after the local delete, or when the commit failed). */
    public void endLeave(Set<Long> doomed) {
        doomed.forEach(id -> leaving.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1));
    }

    /** The ids {@link #delete} would delete, changing nothing. */
    public Set<Long> deleteSet(long[] targets, boolean force, boolean deep) {
        Set<Long> doomed = new LinkedHashSet<>();
        for (long id : targets) {
            collect(id, force, deep, doomed, true);
        }
        return doomed;
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
        if (objects.containsKey(id)) {
            uninstall(id);
            names.values().removeIf(v -> v == id);
        }
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

    /** Every object and visible blob id (what {@code clear} deletes). */
    public long[] allIds() {
        List<Long> all = new ArrayList<>(objects.keySet());
        for (Blob b : blobs.visibleBlobs()) {
            all.add(b.id());
        }
        return all.stream().mapToLong(Long::longValue).toArray();
    }

    /** Deletes every object and name (the blob store clears its blobs itself). */
    public List<Long> clear(BlobLinks by) {
        List<Long> deleted = delete(allIds(), true, true, by, true);
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
        entry.fields.put("__labels", mergedLabels(entry, keys, values));
    }

    private static String mergedLabels(ObjectEntry entry, List<String> keys, List<String> values) {
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
        return labels.toString();
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
        install(copy);
        return target;
    }

    /** Names a persistent, non-blob object; an existing name moves to the new object (vineyard's rule). */
    public void putName(long id, String name) {
        ObjectEntry entry = checkNameable(id);
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

    // ---- the shared backend (etcd): what to publish, and the replica of what others published ----

    /** Signature -> (instance -> object id), from the backend's {@code /signatures} keys. */
    private final Map<Long, Map<Long, Long>> signatures = new HashMap<>();
    /** The live instances ({@code /instances/i<n>/...}), as {@code cluster_meta} reports them. */
    private final Map<Long, ObjectNode> instances = new TreeMap<>();

    /**
     * The puts that publish {@code id} and the members it needs (members first, so that a reader never
     * sees a parent before its members): every reachable own non-blob object not published yet, as
     * vineyard's encoded value (spec 2.3), plus the signature keys of the object and of a global
     * object's members. Changes nothing.
     */
    public List<MetaOp> publishOps(long id) {
        ObjectEntry entry = objects.get(id);
        if (entry == null) {
            if (ObjectIds.isBlob(id) && blobs.exists(id)) {
                return List.of();
            }
            throw new VineyardException(Status.META_TREE_SUBTREE_NOT_EXISTS, "get subtree failed: " + ObjectIds.toText(id));
        }
        List<MetaOp> ops = new ArrayList<>();
        publishTree(entry, ops, new HashSet<>());
        return ops;
    }

    private void publishTree(ObjectEntry entry, List<MetaOp> ops, Set<Long> seen) {
        if (entry.published || entry.instance() != instanceId || !seen.add(entry.id)) {
            return;
        }
        for (long member : entry.members.values()) {
            ObjectEntry m = objects.get(member);
            if (m != null) {
                publishTree(m, ops, seen);
                if (entry.isGlobal()) {
                    ops.add(MetaOp.put(MetaKeys.signature(m.instance(), m.signature()), quote(ObjectIds.toText(m.id))));
                }
            }
        }
        ops.add(MetaOp.put(MetaKeys.data(entry.id), encode(entry).toString()));
        ops.add(MetaOp.put(MetaKeys.signature(instanceId, entry.signature()), quote(ObjectIds.toText(entry.id))));
    }

    /** After {@link #publishOps} committed: the object (and its members) are persistent and published. */
    public void markPublished(long id) {
        ObjectEntry entry = objects.get(id);
        if (entry != null) {
            persistTree(entry);
            markPublishedTree(entry);
        }
    }

    private void markPublishedTree(ObjectEntry entry) {
        if (entry.published || entry.instance() != instanceId) {
            return;
        }
        entry.published = true;
        for (long member : entry.members.values()) {
            ObjectEntry m = objects.get(member);
            if (m != null) {
                markPublishedTree(m);
            }
        }
    }

    /** Whether {@code id} is an object in the shared backend. */
    public boolean isPublished(long id) {
        ObjectEntry entry = objects.get(id);
        return entry != null && entry.published;
    }

    /** vineyard's stored form of an object: strings as {@code v...}, members as links, no id (spec 2.3). */
    private ObjectNode encode(ObjectEntry entry) {
        ObjectNode out = Json.object();
        for (Map.Entry<String, JsonNode> f : entry.fields.properties()) {
            String key = f.getKey();
            JsonNode value = f.getValue();
            if (key.equals("__name")) {
                continue; // a key of its own, /data/<id>/__name (put_name)
            }
            if (value.isTextual()) {
                out.put(key, "v" + value.textValue());
            } else {
                out.set(key, value);
            }
        }
        out.put("transient", false);
        for (Map.Entry<String, Long> m : entry.members.entrySet()) {
            long memberId = m.getValue();
            String link;
            if (ObjectIds.isBlob(memberId)) {
                link = ObjectIds.toText(memberId) + ".vineyard::Blob@" + entry.instance();
            } else {
                ObjectEntry member = objects.get(memberId);
                String type = member == null ? "vineyard::Object" : member.typename();
                int lt = type.indexOf('<');
                String name = entry.isGlobal() && member != null ? ObjectIds.signatureText(member.signature())
                        : ObjectIds.toText(memberId);
                link = name + "." + (lt < 0 ? type : type.substring(0, lt));
            }
            out.put(m.getKey(), "l" + link);
        }
        return out;
    }

    /** Decodes a value of {@code /data/o<hex>} published by any instance (ours or vineyard's). */
    private ObjectEntry decode(long id, JsonNode value) {
        ObjectEntry entry = new ObjectEntry(id, Json.object());
        for (Map.Entry<String, JsonNode> f : value.properties()) {
            JsonNode v = f.getValue();
            String key = f.getKey();
            if (v.isTextual() && v.textValue().startsWith("l")) {
                String link = v.textValue().substring(1);
                int dot = link.indexOf('.');
                String name = dot < 0 ? link : link.substring(0, dot);
                try {
                    long ref = ObjectIds.parseText(name);
                    if (name.startsWith("s")) {
                        entry.sigMembers.put(key, ref);
                    } else {
                        entry.members.put(key, ref);
                    }
                } catch (NumberFormatException e) {
                    entry.fields.put(key, v.textValue()); // not a link we understand: keep it as it is
                }
            } else {
                entry.fields.set(key, decodeValue(v));
            }
        }
        entry.published = true;
        return entry;
    }

    private static JsonNode decodeValue(JsonNode v) {
        return v.isTextual() && v.textValue().startsWith("v") ? Json.NODES.textNode(v.textValue().substring(1)) : v;
    }

    private static String quote(String text) {
        return Json.NODES.textNode(text).toString();
    }

    /**
     * The deletes that remove the published objects among {@code doomed} from the backend: their
     * data keys (with the fields under them), signature keys and names. Changes nothing.
     */
    public List<MetaOp> unpublishOps(Set<Long> doomed) {
        List<MetaOp> ops = new ArrayList<>();
        for (long id : doomed) {
            ObjectEntry entry = objects.get(id);
            if (entry == null || !entry.published) {
                continue;
            }
            ops.add(MetaOp.deleteTree(MetaKeys.data(id)));
            ops.add(MetaOp.delete(MetaKeys.signature(entry.instance(), entry.signature())));
            for (Map.Entry<String, Long> n : names.entrySet()) {
                if (n.getValue() == id) {
                    ops.add(MetaOp.delete(MetaKeys.name(n.getKey())));
                }
            }
        }
        return ops;
    }

    /** The puts of a name (the name key and the object's {@code __name}), validated as {@link #putName}. */
    public List<MetaOp> nameOps(long id, String name) {
        checkNameable(id);
        return namePuts(id, name);
    }

    /** The keys of a name: {@code /names/<escaped>} -> the id, and the object's {@code __name}. */
    public static List<MetaOp> namePuts(long id, String name) {
        return List.of(MetaOp.put(MetaKeys.name(name), Long.toUnsignedString(id)),
                MetaOp.put(MetaKeys.dataField(id, "__name"), quote("v" + name)));
    }

    /** Forgets an object this daemon just made whose publication failed (its members and blobs stay). */
    public void discard(long id) {
        removeObject(id);
    }

    private ObjectEntry checkNameable(long id) {
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
        return entry;
    }

    /** The deletes that drop a published name, or none. */
    public List<MetaOp> dropNameOps(String name) {
        Long id = names.get(name);
        if (id == null || !isPublished(id)) {
            return List.of();
        }
        return List.of(MetaOp.delete(MetaKeys.name(name)), MetaOp.delete(MetaKeys.dataField(id, "__name")));
    }

    /** The put of an object's merged labels when it is published, else none. */
    public List<MetaOp> labelOps(long id, List<String> keys, List<String> values) {
        ObjectEntry entry = objects.get(id);
        if (entry == null || !entry.published) {
            return List.of();
        }
        return List.of(MetaOp.put(MetaKeys.dataField(id, "__labels"), quote("v" + mergedLabels(entry, keys, values))));
    }

    /**
     * Applies changes the backend reported (the initial load, then the watch), under the store lock.
     * This instance's own objects are kept as they are (they are the source of what it published);
     * a delete of one of them by another instance deletes it here too, blobs included, unless a local
     * object still uses it (it is then transient again, as vineyard does).
     */
    public void applyRemote(List<MetaOp> ops, BlobLinks by) {
        for (MetaOp op : ops) {
            try {
                applyRemote(op, by);
            } catch (RuntimeException e) {
                // one malformed value (another writer's garbage) must not stop the replica
                org.slf4j.LoggerFactory.getLogger(MetaStore.class).warn("ignoring backend key {}: {}", op.key(), e.toString());
            }
        }
    }

    private void applyRemote(MetaOp op, BlobLinks by) throws RuntimeException {
        String[] parts = op.key().split("/", 5); // "", kind, a, b, ...
        if (parts.length < 3) {
            return;
        }
        switch (parts[1]) {
            case "data" -> applyData(parts, op, by);
            case "names" -> {
                String name = MetaKeys.unescape(op.key().substring("/names/".length()));
                if (op.isDelete()) {
                    Long id = names.remove(name);
                    ObjectEntry entry = id == null ? null : objects.get(id);
                    if (entry != null && name.equals(entry.fields.path("__name").asText(null))) {
                        entry.fields.remove("__name");
                    }
                } else {
                    names.put(name, Json.readU64(valueOf(op), "name"));
                    listener.nameBound(name);
                }
            }
            case "signatures" -> {
                if (parts.length < 4 || !parts[2].startsWith("i")) {
                    return;
                }
                long inst = Long.parseLong(parts[2].substring(1));
                long sig = ObjectIds.parseText(parts[3]);
                if (op.isDelete()) {
                    Map<Long, Long> at = signatures.get(sig);
                    if (at != null) {
                        at.remove(inst);
                        if (at.isEmpty()) {
                            signatures.remove(sig);
                        }
                    }
                } else {
                    signatures.computeIfAbsent(sig, k -> new HashMap<>()).put(inst, ObjectIds.parseText(valueOf(op).asText()));
                }
            }
            case "instances" -> {
                if (parts.length < 4 || !parts[2].startsWith("i")) {
                    return;
                }
                long inst = Long.parseLong(parts[2].substring(1));
                if (op.isDelete()) {
                    ObjectNode fields = instances.get(inst);
                    if (fields != null) {
                        fields.remove(parts[3]);
                        if (fields.isEmpty()) {
                            instances.remove(inst);
                        }
                    }
                } else {
                    instances.computeIfAbsent(inst, k -> Json.object()).set(parts[3], valueOf(op));
                }
            }
            default -> {
                // next_instance_id, lock keys and keys of newer vineyards: nothing to replicate
            }
        }
    }

    private void applyData(String[] parts, MetaOp op, BlobLinks by) {
        long id = ObjectIds.parseText(parts[2]);
        ObjectEntry existing = objects.get(id);
        boolean own = existing != null && existing.instance() == instanceId;
        if (parts.length == 3) {
            if (op.isDelete()) {
                if (existing == null) {
                    return;
                }
                if (!own) {
                    uninstall(id);
                } else if (leaving.containsKey(id)) {
                    // our own delete coming back before we applied it: the local delete does it
                    existing.published = false;
                } else if (outsideParents(id, Set.of()).isEmpty()) {
                    delete(new long[] {id}, false, false, by, false);
                } else {
                    existing.fields.put("transient", true);
                    existing.published = false;
                }
                return;
            }
            if (own) {
                return; // our own publication coming back
            }
            ObjectEntry entry = decode(id, valueOf(op));
            if (existing != null) {
                entry.fields.setAll(fieldsUnder(existing)); // __name/__labels keys that came first
                uninstall(id);
            }
            install(entry);
            return;
        }
        if (existing == null || own) {
            return;
        }
        String field = op.key().substring(MetaKeys.data(id).length() + 1);
        if (op.isDelete()) {
            existing.fields.remove(field);
        } else {
            existing.fields.set(field, decodeValue(valueOf(op)));
        }
    }

    private static ObjectNode fieldsUnder(ObjectEntry entry) {
        ObjectNode out = Json.object();
        for (String f : List.of("__name", "__labels")) {
            if (entry.fields.has(f)) {
                out.set(f, entry.fields.get(f));
            }
        }
        return out;
    }

    /** Adds an entry, its parent links, and tells the waits. */
    private void install(ObjectEntry entry) {
        objects.put(entry.id, entry);
        for (long member : entry.members.values()) {
            parents.computeIfAbsent(member, k -> new HashSet<>()).add(entry.id);
        }
        listener.objectCreated(entry.id);
    }

    /** Removes an entry and its parent links; names stay (a replicated object's go when the backend says). */
    private void uninstall(long id) {
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
    }

    /** The op's value as JSON: parsed on its way in (a replica's received ops), else now. */
    private static JsonNode valueOf(MetaOp op) {
        return op.json() != null ? op.json() : parseJson(op.value());
    }

    private static JsonNode parseJson(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (IOException e) {
            throw new VineyardException.Invalid("not JSON: " + text);
        }
    }

    /**
     * Forgets everything replicated from the backend (before a full reload after the backend lost its
     * data or this instance's registration): other instances' objects, every name of theirs, the
     * signatures and the instances; this instance's own objects stay and count as unpublished.
     */
    public void forgetReplica() {
        List<Long> remote = new ArrayList<>();
        for (ObjectEntry e : objects.values()) {
            if (e.instance() != instanceId) {
                remote.add(e.id);
            } else {
                e.published = false;
            }
        }
        remote.forEach(this::uninstall);
        names.values().removeIf(id -> !objects.containsKey(id));
        signatures.clear();
        instances.clear();
    }

    /** Everything this instance must publish again into an emptied backend: its persisted objects, their names. */
    public List<MetaOp> republishOps() {
        List<MetaOp> ops = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (ObjectEntry e : objects.values()) {
            if (e.instance() == instanceId && !e.isTransient()) {
                publishTree(e, ops, seen);
            }
        }
        for (Map.Entry<String, Long> n : names.entrySet()) {
            ObjectEntry e = objects.get(n.getValue());
            if (e != null && e.instance() == instanceId && !e.isTransient()) {
                ops.addAll(namePuts(n.getValue(), n.getKey()));
            }
        }
        return ops;
    }

    /** After {@link #republishOps} committed. */
    public void markAllPublished() {
        for (ObjectEntry e : objects.values()) {
            if (e.instance() == instanceId && !e.isTransient()) {
                e.published = true;
            }
        }
    }

    /** The object a signature stands for: this instance's copy first (vineyard's rule), else any. */
    private Long bySignature(long signature) {
        Map<Long, Long> at = signatures.get(signature);
        if (at == null || at.isEmpty()) {
            return null;
        }
        Long own = at.get(instanceId);
        return own != null ? own : at.values().iterator().next();
    }

    /** An object of this instance with the given signature and typename (a migrated copy), or null. */
    public Long localEquivalent(long signature, String typename) {
        for (ObjectEntry e : objects.values()) {
            if (e.instance() == instanceId && e.signature() == signature && e.typename().equals(typename)) {
                return e.id;
            }
        }
        return null;
    }

    /** The instance that holds an object, or -1 when it is unknown here. */
    public long ownerOf(long id) {
        ObjectEntry e = objects.get(id);
        return e == null ? -1 : e.instance();
    }

    /** The registered instances: {@code i<n>} -> their fields, as {@code cluster_meta} reports them. */
    public ObjectNode instancesJson() {
        ObjectNode out = Json.object();
        instances.forEach((id, fields) -> out.set("i" + id, fields.deepCopy()));
        return out;
    }

    /** A registered instance's fields, or null when it is not (or no longer) registered. */
    public ObjectNode instance(long id) {
        return instances.get(id);
    }
}
