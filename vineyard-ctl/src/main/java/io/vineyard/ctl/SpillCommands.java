package io.vineyard.ctl;

import io.vineyard.client.ObjectId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

/** {@code evict}, {@code load} and {@code unpin}: the daemon's spill controls (it needs {@code --spill_path}). */
final class SpillCommands {
    private SpillCommands() {
    }

    /** The objects named on the command line, by id or name. */
    abstract static class OnObjects extends Verb {
        @Parameters(arity = "1..*", paramLabel = "ID|NAME", converter = GetCommand.RefConverter.class,
                description = "object ids (o + 16 hex digits) or names")
        List<ObjectRef> refs;

        ObjectId[] ids(Session session) {
            List<ObjectId> ids = new ArrayList<>();
            for (ObjectRef ref : refs) {
                ids.add(session.resolve(ref));
            }
            return ids.toArray(ObjectId[]::new);
        }
    }

    @Command(name = "evict", mixinStandardHelpOptions = true, header = "Spill objects to the daemon's --spill_path now.",
            description = {"Writes the objects' blobs to the daemon's spill directory and frees their memory; a later",
                    "get reloads them. Prints how many blobs were spilled. Fails, spilling nothing, when a blob",
                    "is in use (held by a client or pinned)."})
    static final class Evict extends OnObjects {
        @Override
        int run(Session session) {
            out().println(session.client().evict(ids(session)) + " blobs spilled");
            return ExitCode.OK;
        }
    }

    @Command(name = "load", mixinStandardHelpOptions = true, header = "Bring spilled objects back into memory.",
            description = "Reloads the objects' spilled blobs; with --pin they stay in memory until unpinned.")
    static final class Load extends OnObjects {
        @Option(names = "--pin", description = "never spill them until `vineyardctl unpin`")
        boolean pin;

        @Override
        int run(Session session) {
            ObjectId[] ids = ids(session);
            session.client().load(pin, ids);
            for (ObjectId id : ids) {
                out().println(id + (pin ? "\tpinned" : "\tloaded"));
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "unpin", mixinStandardHelpOptions = true, header = "Let the daemon spill pinned objects again.")
    static final class Unpin extends OnObjects {
        @Override
        int run(Session session) {
            ObjectId[] ids = ids(session);
            session.client().unpin(ids);
            for (ObjectId id : ids) {
                out().println(id + "\t" + (session.client().isSpilled(id) ? "spilled" : "in memory"));
            }
            return ExitCode.OK;
        }
    }
}
