package io.vineyard.ctl;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code ls objects|blobs|metadatas}: one line per object (tab-separated, no header) or one JSON
 * document with {@code --json}. At most {@code --limit} entries; when more match, a note on stderr says
 * the list was cut (the daemon is asked for one more than the limit, to know).
 */
@Command(name = "ls", mixinStandardHelpOptions = true, description = "List objects, blobs or metadata.",
        subcommands = {LsCommand.Objects.class, LsCommand.Blobs.class, LsCommand.Metadatas.class})
final class LsCommand {
    static final int DEFAULT_LIMIT = 1000;

    /** The options every listing shares. */
    abstract static class Listing extends Verb {
        @Option(names = "--limit", paramLabel = "N", defaultValue = "" + DEFAULT_LIMIT,
                description = "at most N entries (default: ${DEFAULT-VALUE}; 0: all)")
        long limit;

        @Option(names = "--json", description = "print one JSON document instead of lines")
        boolean json;

        long askFor() {
            if (limit < 0) {
                throw new CtlException(ExitCode.USAGE, "--limit must be >= 0, got " + limit, null);
            }
            return limit == 0 ? Session.NO_LIMIT : limit + 1;
        }

        /** The first {@code limit} entries; notes on stderr when more matched. */
        <T> List<T> cut(List<T> all, String what) {
            if (limit == 0 || all.size() <= limit) {
                return all;
            }
            note("listed the first " + limit + " " + what + "; more match (raise --limit, or --limit 0 for all)");
            return all.subList(0, (int) limit);
        }
    }

    /** Listings filtered by typename. */
    abstract static class Filtered extends Listing {
        @Option(names = "--pattern", paramLabel = "GLOB", defaultValue = "*",
                description = "typename glob, or a regex with --regex (default: ${DEFAULT-VALUE})")
        String pattern;

        @Option(names = "--regex", description = "--pattern is a regular expression (whole typename)")
        boolean regex;

        /** Non-blob objects matching the pattern (the daemon lists sealed blobs after them). */
        List<ObjectMeta> objects(Session session) {
            List<ObjectMeta> out = new ArrayList<>();
            for (ObjectMeta m : session.list(pattern, regex, askFor()).values()) {
                if (!m.isBlob()) {
                    out.add(m);
                }
            }
            return cut(out, "objects");
        }
    }

    @Command(name = "objects", mixinStandardHelpOptions = true, header = "List objects.",
            description = {"List objects (blobs left out): one line per object,",
                    "ID<TAB>TYPENAME<TAB>NBYTES<TAB>NAMES (comma-separated, - for none)."})
    static final class Objects extends Filtered {
        @Override
        int run(Session session) throws Exception {
            List<ObjectMeta> objects = objects(session);
            Map<ObjectId, List<String>> names = NamesCommand.byObject(session);
            if (json) {
                ArrayNode arr = Json.MAPPER.createArrayNode();
                for (ObjectMeta m : objects) {
                    ObjectNode o = arr.addObject();
                    o.put("id", m.id().toString());
                    o.put("typename", m.typename());
                    o.put("nbytes", m.nbytes());
                    o.put("transient", m.isTransient());
                    ArrayNode n = o.putArray("names");
                    names.getOrDefault(m.id(), List.of()).forEach(n::add);
                }
                printJson(arr);
                return ExitCode.OK;
            }
            for (ObjectMeta m : objects) {
                List<String> n = names.getOrDefault(m.id(), List.of());
                out().println(m.id() + "\t" + m.typename() + "\t" + m.nbytes() + "\t"
                        + (n.isEmpty() ? "-" : String.join(",", n)));
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "blobs", mixinStandardHelpOptions = true, header = "List sealed blobs.",
            description = {"List sealed blobs: one line per blob, ID<TAB>SIZE (bytes)."})
    static final class Blobs extends Listing {
        @Override
        int run(Session session) throws Exception {
            List<ObjectMeta> blobs = new ArrayList<>();
            for (ObjectMeta m : session.list(ObjectMeta.BLOB_TYPENAME, false, askFor()).values()) {
                if (m.isBlob()) {
                    blobs.add(m);
                }
            }
            blobs = cut(blobs, "blobs");
            if (json) {
                ArrayNode arr = Json.MAPPER.createArrayNode();
                for (ObjectMeta b : blobs) {
                    arr.addObject().put("id", b.id().toString()).put("size", blobSize(b))
                            .put("instance_id", b.instanceId());
                }
                printJson(arr);
                return ExitCode.OK;
            }
            for (ObjectMeta b : blobs) {
                out().println(b.id() + "\t" + blobSize(b));
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "metadatas", mixinStandardHelpOptions = true, header = "List objects' metadata trees.",
            description = {"List objects' whole metadata trees (blobs left out): one compact JSON tree",
                    "per line, or with --json one JSON object {id: tree}."})
    static final class Metadatas extends Filtered {
        @Override
        int run(Session session) throws Exception {
            List<ObjectMeta> objects = objects(session);
            if (json) {
                ObjectNode all = Json.object();
                objects.forEach(m -> all.set(m.id().toString(), m.toJson()));
                printJson(all);
                return ExitCode.OK;
            }
            for (ObjectMeta m : objects) {
                out().println(Json.MAPPER.writeValueAsString(m.toJson()));
            }
            return ExitCode.OK;
        }
    }

    /** A blob entry's size: {@code length}, else {@code nbytes} (vineyard's daemon reports 0 for the latter). */
    static long blobSize(ObjectMeta blob) {
        return blob.has("length") ? blob.getLong("length", 0) : blob.nbytes();
    }
}
