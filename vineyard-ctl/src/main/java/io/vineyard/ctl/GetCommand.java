package io.vineyard.ctl;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** {@code get object|metadata|blob|file}: one object, by id or name. */
@Command(name = "get", mixinStandardHelpOptions = true, description = "Show an object, its metadata or a blob; copy one to a file.",
        subcommands = {GetCommand.Object.class, GetCommand.Metadata.class, GetCommand.Blob.class, GetCommand.File.class})
final class GetCommand {
    /** Bytes written to a file per step (one progress update each). */
    static final long CHUNK_BYTES = 16L << 20;

    /** A verb on one object. */
    abstract static class OneObject extends Verb {
        @Parameters(index = "0", paramLabel = "ID|NAME", converter = RefConverter.class,
                description = "an object id (o + 16 hex digits) or a name")
        ObjectRef ref;
    }

    @Command(name = "object", mixinStandardHelpOptions = true, header = "An object's tree and value.",
            description = {"An object's metadata tree and, for the types the Java SDK reads, its value",
                    "(a tensor's dtype, shape and first elements...); every blob is fetched, so a missing",
                    "one is an error; other types show their metadata only.",
                    "--json: {id, typename, nbytes, names, value (types the SDK reads), meta}."})
    static final class Object extends OneObject {
        @Option(names = "--json", description = "print one JSON object")
        boolean json;

        @Override
        int run(Session session) throws Exception {
            ObjectId id = session.resolve(ref);
            if (id.isBlob()) {
                return Blob.show(this, session, id, json, 64);
            }
            IpcClient client = session.client();
            ObjectMeta meta = session.meta(id);
            List<ObjectId> blobIds = new ArrayList<>();
            meta.blobs().forEach(b -> blobIds.add(b.id()));
            session.blobs(blobIds);   // every blob is there and sealed, or not found
            ObjectNode value = known(client, meta) ? summary(client, id) : null;
            Map<ObjectId, List<String>> names = NamesCommand.byObject(session);
            if (json) {
                ObjectNode o = Json.object();
                o.put("id", id.toString());
                o.put("typename", meta.typename());
                o.put("nbytes", meta.nbytes());
                ArrayNode n = o.putArray("names");
                names.getOrDefault(id, List.of()).forEach(n::add);
                if (value != null) {
                    o.set("value", value);
                }
                o.set("meta", meta.toJson());
                printJson(o);
                return ExitCode.OK;
            }
            new TreeView(out(), names).print(meta);
            if (value != null) {
                out().println("value: " + value);
            }
            return ExitCode.OK;
        }

        private static boolean known(IpcClient client, ObjectMeta meta) {
            try {
                client.registry().resolverFor(meta.typename(), java.lang.Object.class);
                return true;
            } catch (VineyardException e) {
                if (e.status() == Status.TYPE_ERROR) {
                    return false;
                }
                throw e;
            }
        }

        /** The value's summary, or null when the SDK's resolver for the typename cannot read it. */
        private static ObjectNode summary(IpcClient client, ObjectId id) throws Exception {
            java.lang.Object v;
            try {
                v = client.get(id, java.lang.Object.class);
            } catch (VineyardException e) {
                if (e.status() == Status.OBJECT_NOT_EXISTS) {
                    throw e;
                }
                return null;   // e.g. a Tensor<uint8_t>: shown by its metadata only
            }
            try {
                return ValueSummary.of(v);
            } finally {
                if (v instanceof AutoCloseable c) {
                    c.close();
                }
            }
        }
    }

    @Command(name = "metadata", mixinStandardHelpOptions = true, header = "An object's stored metadata.",
            description = {"An object's metadata tree as the daemon stores it (get_data); --json: the tree."})
    static final class Metadata extends OneObject {
        @Option(names = "--json", description = "print the tree as JSON")
        boolean json;

        @Override
        int run(Session session) throws Exception {
            ObjectId id = session.resolve(ref);
            if (id.isBlob()) {
                return Blob.show(this, session, id, json, 0);
            }
            ObjectMeta meta = session.meta(id);
            if (json) {
                printJson(meta.toJson());
            } else {
                new TreeView(out(), NamesCommand.byObject(session)).print(meta);
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "blob", mixinStandardHelpOptions = true, header = "A blob's size and first bytes.",
            description = {"A blob's id and size and its first bytes in hex; --json: {id, size, head_hex}."})
    static final class Blob extends OneObject {
        @Option(names = "--json", description = "print one JSON object")
        boolean json;

        @Option(names = "--bytes", paramLabel = "N", defaultValue = "64",
                description = "how many bytes to show (default: ${DEFAULT-VALUE})")
        int bytes;

        @Override
        int run(Session session) throws Exception {
            ObjectId id = session.resolve(ref);
            if (!id.isBlob()) {
                throw new CtlException(ExitCode.USAGE, id + " is an object, not a blob (see get object " + id
                        + ", or ls blobs for blob ids)", null);
            }
            if (bytes < 0) {
                throw new CtlException(ExitCode.USAGE, "--bytes must be >= 0, got " + bytes, null);
            }
            return show(this, session, id, json, bytes);
        }

        static int show(Verb verb, Session session, ObjectId id, boolean json, int bytes) throws Exception {
            MemorySegment data = session.blob(id);
            byte[] head = data.asSlice(0, Math.min(bytes, data.byteSize())).toArray(ValueLayout.JAVA_BYTE);
            if (json) {
                ObjectNode o = Json.object();
                o.put("id", id.toString());
                o.put("typename", ObjectMeta.BLOB_TYPENAME);
                o.put("size", data.byteSize());
                o.put("head_hex", HexFormat.of().formatHex(head));
                verb.printJson(o);
                return ExitCode.OK;
            }
            verb.out().println(id + " " + ObjectMeta.BLOB_TYPENAME + " " + Bytes.human(data.byteSize()));
            for (int off = 0; off < head.length; off += 16) {
                byte[] row = java.util.Arrays.copyOfRange(head, off, Math.min(head.length, off + 16));
                StringBuilder text = new StringBuilder();
                for (byte b : row) {
                    text.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
                }
                verb.out().printf("  %08x  %-47s  |%s|%n", off, HexFormat.ofDelimiter(" ").formatHex(row), text);
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "file", mixinStandardHelpOptions = true, header = "Write an object's bytes to a local file.",
            description = {"Write an object's bytes to a local file: a blob's, or the one blob of a Tensor",
                    "(what put file stores) or of any object with exactly one blob. The file is",
                    "replaced whole (written beside it, then renamed); a progress bar is drawn when",
                    "stderr is a terminal. Prints the path and the byte count. PATH - writes the",
                    "bytes to stdout (and nothing else)."})
    static final class File extends OneObject {
        @Parameters(index = "1", paramLabel = "PATH", description = "the file to write, - for stdout")
        Path path;

        @Override
        int run(Session session) throws Exception {
            ObjectId id = session.resolve(ref);
            ObjectId blobId = id.isBlob() ? id : onlyBlob(session.meta(id));
            MemorySegment data = session.blob(blobId);
            if (path.toString().equals("-")) {
                return toStdout(data);
            }
            Path target = path.toAbsolutePath();
            Path parent = target.getParent();
            if (parent == null || !Files.isDirectory(parent)) {
                throw new CtlException(ExitCode.FAILED, "cannot write " + path + ": no directory " + parent, null);
            }
            Path partial = Files.createTempFile(parent, "." + target.getFileName() + ".", ".part");
            try {
                try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.WRITE);
                     Progress bar = Progress.on(err(), "get " + ref, data.byteSize(), Terminal.stderrIsTerminal())) {
                    long done = 0;
                    while (done < data.byteSize()) {
                        long n = Math.min(CHUNK_BYTES, data.byteSize() - done);
                        var buffer = data.asSlice(done, n).asByteBuffer();
                        while (buffer.hasRemaining()) {
                            ch.write(buffer);
                        }
                        done += n;
                        bar.update(done);
                    }
                    bar.update(done);
                }
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                Files.deleteIfExists(partial);
                throw new CtlException(ExitCode.FAILED, "cannot write " + path + ": " + e, e);
            }
            out().println(path + "\t" + data.byteSize());
            return ExitCode.OK;
        }

        private int toStdout(MemorySegment data) {
            out().flush();
            java.io.PrintStream raw = ((Vineyardctl) spec.root().userObject()).rawOut();
            byte[] chunk = new byte[(int) Math.min(CHUNK_BYTES, Math.max(1, data.byteSize()))];
            try (Progress bar = Progress.on(err(), "get " + ref, data.byteSize(), Terminal.stderrIsTerminal())) {
                for (long done = 0; done < data.byteSize(); ) {
                    int n = (int) Math.min(chunk.length, data.byteSize() - done);
                    MemorySegment.copy(data, ValueLayout.JAVA_BYTE, done, chunk, 0, n);
                    raw.write(chunk, 0, n);
                    done += n;
                    bar.update(done);
                }
                bar.update(data.byteSize());
            }
            raw.flush();
            if (raw.checkError()) {
                throw new CtlException(ExitCode.FAILED, "cannot write to stdout", null);
            }
            return ExitCode.OK;
        }

        private static ObjectId onlyBlob(ObjectMeta meta) {
            if (meta.hasMember("buffer_") && meta.member("buffer_").isBlob()) {
                return meta.member("buffer_").id();
            }
            List<ObjectMeta> blobs = meta.blobs();
            if (blobs.size() != 1) {
                throw new CtlException(ExitCode.FAILED, meta.what() + " has " + blobs.size()
                        + " blobs: get file writes one blob (give a blob id, a Tensor, or an object with one blob)", null);
            }
            return blobs.get(0).id();
        }
    }

    /** picocli's converter for ID|NAME arguments. */
    static final class RefConverter implements picocli.CommandLine.ITypeConverter<ObjectRef> {
        @Override
        public ObjectRef convert(String value) {
            return ObjectRef.parse(value);
        }
    }
}
