package io.vineyard.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import io.vineyard.client.Blob;
import io.vineyard.client.BlobWriter;
import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.client.VineyardObject;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.registry.VineyardType;
import io.vineyard.common.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Any object tree to a directory and back, in the layout of vineyard's {@code serializer} and
 * {@code write_bytes_collection} adaptors (one writer process: {@code 1-0}):
 *
 * <pre>
 *   DIR/1-0/metadata.json                 the root's fields, {"__typename", "__global", "__path": "", ...}
 *   DIR/1-0/MEMBER/metadata.json          a member object's fields, "__path": "MEMBER"
 *   DIR/1-0/MEMBER/BLOB/blob              a blob member's bytes (zstd frame unless compression=none)
 *   DIR/1-0/MEMBER/BLOB/blob.meta.json    {"__path": "MEMBER/BLOB/blob", "length": N, "__options": "{\"compression_method\": \"zstd\"}"}
 * </pre>
 *
 * Serialize writes into a hidden sibling directory and renames it to DIR once complete. Deserialize builds
 * the whole tree in one put (every blob filled, then one create), so a corrupt directory leaves nothing
 * in the daemon; ids, signatures and instance ids are new, every other field and every blob byte is the same.
 */
final class ObjectDirectory {
    static final String WORKER = "1-0";
    static final String METADATA = "metadata.json";
    static final String BLOB = "blob";
    static final String BLOB_META = "blob.meta.json";
    private static final Set<String> NOT_COPIED = Set.of("typename", "id", "signature", "instance_id", "transient",
            "__global", "__path", "__streams");
    private static final int CHUNK = 8 << 20;

    private ObjectDirectory() {
    }

    static void serialize(Client client, ObjectId id, String uri, IoOptions o, VineyardIO.Progress progress) {
        Location loc = Location.of(uri, o.storage());
        String compression = o.string("compression", o.string("compression_method", "zstd"));
        if (!compression.equals("zstd") && !compression.equals("none")) {
            throw new IoException.Unsupported(loc.uri(), "compression '" + compression + "' (zstd, none)");
        }
        try (Storage fs = loc.storage(o.storage())) {
            String target = loc.path();
            if (fs.isFile(target)) {
                throw new IoException(loc.uri(), null, "the target exists and is not a directory", null);
            }
            if (fs.isDirectory(target) && !fs.children(target).isEmpty()) {
                throw new IoException(loc.uri(), null, "the target directory exists and is not empty", null);
            }
            // a hidden sibling renamed into place; where a rename is a copy of every key (S3), the target
            // itself, deleted again when the write fails
            String tmp = fs.atomicRename() ? Storage.hiddenSibling(target) : target;
            boolean done = false;
            try (VineyardObject object = client.getObject(id)) {
                writeObject(fs, object, object.meta(), Storage.join(tmp, WORKER), "", new Copy(compression.equals("zstd"), progress));
                if (fs.atomicRename()) {
                    fs.rename(tmp, target);
                }
                done = true;
            } catch (IOException e) {
                throw fs.failure(target, e);
            } finally {
                if (fs.atomicRename() || !done) {
                    fs.delete(tmp);
                }
            }
        }
    }

    private static void writeObject(Storage fs, VineyardObject object, ObjectMeta meta, String dir, String path, Copy copy) throws IOException {
        ObjectNode fields = Json.object();
        fields.put("__global", meta.isGlobal());
        Map<String, ObjectMeta> members = meta.members();
        for (String k : meta.keys()) {
            if (members.containsKey(k)) {
                continue;
            }
            if (k.equals("typename")) {
                fields.put("__typename", meta.typename());
            } else {
                fields.set(k, meta.value(k));
            }
        }
        fields.put("__path", path);
        fields.put("typename", "vineyard::StreamCollection");
        writeString(fs, Storage.join(dir, METADATA), Json.MAPPER.writeValueAsString(fields));
        for (Map.Entry<String, ObjectMeta> e : members.entrySet()) {
            String memberPath = path.isEmpty() ? e.getKey() : path + "/" + e.getKey();
            String memberDir = Storage.join(dir, e.getKey());
            if (e.getValue().isBlob()) {
                writeBlob(fs, object, e.getValue(), memberDir, memberPath, copy);
            } else {
                writeObject(fs, object, e.getValue(), memberDir, memberPath, copy);
            }
        }
    }

    private static void writeString(Storage fs, String file, String text) throws IOException {
        try (OutputStream out = fs.create(file)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String readString(Storage fs, String file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void writeBlob(Storage fs, VineyardObject object, ObjectMeta entry, String dir, String path, Copy copy) throws IOException {
        boolean zstd = copy.zstd();
        long length = entry.getLong("length", entry.nbytes());
        try (OutputStream file = fs.create(Storage.join(dir, BLOB));
             OutputStream out = zstd ? new ZstdOutputStream(file) : file) {
            if (length > 0) {
                Blob blob = object.blob(entry);
                copy(blob.segment(), out);
                length = blob.size();
            }
        }
        copy.done(length);
        ObjectNode params = Json.object();
        params.put("__path", path + "/" + BLOB);
        params.put("length", length);
        params.put("__options", zstd ? "{\"compression_method\": \"zstd\"}" : "{}");
        writeString(fs, Storage.join(dir, BLOB_META), Json.MAPPER.writeValueAsString(params));
    }

    /** How blobs are written (zstd or raw) and the running byte count reported to the progress. */
    private static final class Copy {
        private final boolean zstd;
        private final VineyardIO.Progress progress;
        private long bytes;

        Copy(boolean zstd, VineyardIO.Progress progress) {
            this.zstd = zstd;
            this.progress = progress;
        }

        boolean zstd() {
            return zstd;
        }

        void done(long blobBytes) {
            bytes += blobBytes;
            progress.update(bytes, 0);
        }
    }

    private static void copy(MemorySegment src, OutputStream out) throws IOException {
        byte[] buf = new byte[(int) Math.min(CHUNK, src.byteSize())];
        for (long off = 0; off < src.byteSize(); off += buf.length) {
            int n = (int) Math.min(buf.length, src.byteSize() - off);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, off, buf, 0, n);
            out.write(buf, 0, n);
        }
    }

    // ---- deserialize ---------------------------------------------------------------------------------

    static ObjectId deserialize(Client client, String uri, IoOptions o, VineyardIO.Progress progress) {
        Location loc = Location.of(uri, o.storage());
        try (Storage fs = loc.storage(o.storage())) {
            fs.walkAhead(loc.path());
            String root = rootOf(fs, loc);
            return client.put(new SerializedTree(loc.uri(), fs, root, new Copy(false, progress)), PutOptions.persistent());
        } catch (IoException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IoException(loc.uri(), null, e.toString(), e);
        }
    }

    private static String rootOf(Storage fs, Location loc) {
        String dir = loc.path();
        if (fs.isFile(Storage.join(dir, METADATA))) {
            return dir;
        }
        if (fs.isFile(Storage.join(Storage.join(dir, WORKER), METADATA))) {
            return Storage.join(dir, WORKER);
        }
        throw new IoException.NotFound(loc.uri(), "no serialized object (" + WORKER + "/" + METADATA + ")", null);
    }

    /** A serialized directory as a value to put: its builder reads the files. */
    record SerializedTree(String uri, Storage fs, String root, Copy progress) {
    }

    /** Builds a {@link SerializedTree} (service entry; build only). */
    public static final class TreeType implements VineyardType<SerializedTree> {
        /** Service constructor. */
        public TreeType() {
        }

        @Override
        public Class<SerializedTree> javaType() {
            return SerializedTree.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of();
        }

        @Override
        public ObjectMeta build(BuildContext ctx, SerializedTree tree) {
            return readObject(ctx, tree, tree.root(), "");
        }
    }

    private static ObjectMeta readObject(BuildContext ctx, SerializedTree tree, String dir, String path) {
        String uri = tree.uri();
        Storage fs = tree.fs();
        JsonNode fields;
        try {
            fields = Json.MAPPER.readTree(readString(fs, Storage.join(dir, METADATA)));
        } catch (IOException | IoException.NotFound e) {
            throw new IoException.Malformed(uri, path.isEmpty() ? METADATA : path + "/" + METADATA, "unreadable metadata: " + e.getMessage(), e);
        }
        if (fields == null || !fields.isObject() || !fields.hasNonNull("__typename")) {
            throw new IoException.Malformed(uri, path.isEmpty() ? METADATA : path + "/" + METADATA, "metadata without __typename", null);
        }
        ObjectMeta meta = new ObjectMeta(fields.get("__typename").asText());
        for (Map.Entry<String, JsonNode> f : fields.properties()) {
            if (!NOT_COPIED.contains(f.getKey()) && !f.getKey().equals("__typename")) {
                meta.putNode(f.getKey(), f.getValue());
            }
        }
        if (fields.path("__global").asBoolean(false)) {
            meta.setGlobal(true);
        }
        for (String name : fs.children(dir)) {
            String child = Storage.join(dir, name);
            String childPath = path.isEmpty() ? name : path + "/" + name;
            if (fs.isFile(Storage.join(child, BLOB))) {
                meta.addMember(name, readBlob(ctx, tree, child, childPath));
            } else if (fs.isFile(Storage.join(child, METADATA))) {
                meta.addMember(name, readObject(ctx, tree, child, childPath));
            }
        }
        return meta;
    }

    private static ObjectMeta readBlob(BuildContext ctx, SerializedTree tree, String dir, String path) {
        String uri = tree.uri();
        Storage fs = tree.fs();
        String where = path + "/" + BLOB;
        long length;
        boolean zstd;
        try {
            JsonNode params = Json.MAPPER.readTree(readString(fs, Storage.join(dir, BLOB_META)));
            length = params.path("length").asLong(-1);
            JsonNode opts = Json.MAPPER.readTree(params.path("__options").asText("{}"));
            zstd = "zstd".equals(opts.path("compression_method").asText(""));
        } catch (IOException | IoException.NotFound e) {
            throw new IoException.Malformed(uri, path + "/" + BLOB_META, "unreadable blob parameters: " + e.getMessage(), e);
        }
        if (length < 0) {
            throw new IoException.Malformed(uri, path + "/" + BLOB_META, "no length", null);
        }
        if (length == 0) {
            return ctx.blobOf(MemorySegment.ofArray(new byte[0]));
        }
        BlobWriter w = ctx.createBlob(length);
        MemorySegment dst = w.segment();
        try (InputStream file = fs.open(Storage.join(dir, BLOB));
             InputStream in = zstd ? new ZstdInputStream(file) : file) {
            byte[] buf = new byte[(int) Math.min(CHUNK, length)];
            long off = 0;
            int n;
            while ((n = in.readNBytes(buf, 0, (int) Math.min(buf.length, length - off + 1))) > 0) {
                if (off + n > length) {
                    throw new IoException.Malformed(uri, where, "more than the " + length + " bytes blob.meta.json gives", null);
                }
                MemorySegment.copy(buf, 0, dst, ValueLayout.JAVA_BYTE, off, n);
                off += n;
            }
            if (off != length) {
                throw new IoException.Malformed(uri, where + " byte " + off, "ends after " + off + " of its " + length + " bytes", null);
            }
        } catch (IOException | IoException.NotFound e) {
            throw new IoException.Malformed(uri, where, "unreadable: " + e, e);
        }
        tree.progress().done(length);
        return w.asMember();
    }
}
