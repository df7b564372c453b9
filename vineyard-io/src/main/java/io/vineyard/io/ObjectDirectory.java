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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

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
        if (!loc.isLocal()) {
            throw new IoException.Unsupported(loc.uri(), "serialize to S3 is not done yet (local directories only)");
        }
        String compression = o.string("compression", o.string("compression_method", "zstd"));
        if (!compression.equals("zstd") && !compression.equals("none")) {
            throw new IoException.Unsupported(loc.uri(), "compression '" + compression + "' (zstd, none)");
        }
        Path target = loc.localPath();
        if (Files.exists(target)) {
            try (Stream<Path> s = Files.list(target)) {
                if (s.findAny().isPresent()) {
                    throw new IoException(loc.uri(), null, "the target directory exists and is not empty", null);
                }
            } catch (IOException e) {
                throw new IoException(loc.uri(), null, "the target exists and is not a directory: " + e, e);
            }
        }
        Path tmp = target.resolveSibling("." + target.getFileName() + ".vineyard-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try (VineyardObject object = client.getObject(id)) {
            Path root = tmp.resolve(WORKER);
            Files.createDirectories(root);
            writeObject(object, object.meta(), root, "", new Copy(compression.equals("zstd"), progress));
            Files.createDirectories(target.getParent());
            Files.deleteIfExists(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new IoException(loc.uri(), null, e.toString(), e);
        } finally {
            TableWriter.deleteTree(tmp);
        }
    }

    private static void writeObject(VineyardObject object, ObjectMeta meta, Path dir, String path, Copy copy) throws IOException {
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
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(METADATA), Json.MAPPER.writeValueAsString(fields));
        for (Map.Entry<String, ObjectMeta> e : members.entrySet()) {
            String memberPath = path.isEmpty() ? e.getKey() : path + "/" + e.getKey();
            Path memberDir = dir.resolve(e.getKey());
            if (e.getValue().isBlob()) {
                writeBlob(object, e.getValue(), memberDir, memberPath, copy);
            } else {
                writeObject(object, e.getValue(), memberDir, memberPath, copy);
            }
        }
    }

    private static void writeBlob(VineyardObject object, ObjectMeta entry, Path dir, String path, Copy copy) throws IOException {
        boolean zstd = copy.zstd();
        Files.createDirectories(dir);
        long length = entry.getLong("length", entry.nbytes());
        try (OutputStream file = Files.newOutputStream(dir.resolve(BLOB));
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
        Files.writeString(dir.resolve(BLOB_META), Json.MAPPER.writeValueAsString(params));
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
        if (!loc.isLocal()) {
            throw new IoException.Unsupported(loc.uri(), "deserialize from S3 is not done yet (local directories only)");
        }
        Path root = rootOf(loc);
        try {
            return client.put(new SerializedTree(loc.uri(), root, new Copy(false, progress)), PutOptions.persistent());
        } catch (IoException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IoException(loc.uri(), null, e.toString(), e);
        }
    }

    private static Path rootOf(Location loc) {
        Path dir = loc.localPath();
        if (Files.isRegularFile(dir.resolve(METADATA))) {
            return dir;
        }
        if (Files.isRegularFile(dir.resolve(WORKER).resolve(METADATA))) {
            return dir.resolve(WORKER);
        }
        throw new IoException.NotFound(loc.uri(), "no serialized object (" + WORKER + "/" + METADATA + ")", null);
    }

    /** A serialized directory as a value to put: its builder reads the files. */
    record SerializedTree(String uri, Path root, Copy progress) {
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

    private static ObjectMeta readObject(BuildContext ctx, SerializedTree tree, Path dir, String path) {
        String uri = tree.uri();
        JsonNode fields;
        Path file = dir.resolve(METADATA);
        try {
            fields = Json.MAPPER.readTree(Files.readString(file));
        } catch (IOException e) {
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
        List<Path> children;
        try (Stream<Path> s = Files.list(dir)) {
            children = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new IoException.Malformed(uri, path, "cannot list: " + e, e);
        }
        for (Path child : children) {
            String name = child.getFileName().toString();
            String childPath = path.isEmpty() ? name : path + "/" + name;
            if (Files.isRegularFile(child.resolve(BLOB))) {
                meta.addMember(name, readBlob(ctx, tree, child, childPath));
            } else if (Files.isRegularFile(child.resolve(METADATA))) {
                meta.addMember(name, readObject(ctx, tree, child, childPath));
            }
        }
        return meta;
    }

    private static ObjectMeta readBlob(BuildContext ctx, SerializedTree tree, Path dir, String path) {
        String uri = tree.uri();
        String where = path + "/" + BLOB;
        long length;
        boolean zstd;
        try {
            JsonNode params = Json.MAPPER.readTree(Files.readString(dir.resolve(BLOB_META)));
            length = params.path("length").asLong(-1);
            JsonNode opts = Json.MAPPER.readTree(params.path("__options").asText("{}"));
            zstd = "zstd".equals(opts.path("compression_method").asText(""));
        } catch (IOException e) {
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
        try (InputStream file = Files.newInputStream(dir.resolve(BLOB));
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
        } catch (IOException e) {
            throw new IoException.Malformed(uri, where, "unreadable: " + e, e);
        }
        tree.progress().done(length);
        return w.asMember();
    }
}
