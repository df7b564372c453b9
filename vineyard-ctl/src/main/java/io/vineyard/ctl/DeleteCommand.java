package io.vineyard.ctl;

import io.vineyard.client.ObjectId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

/** {@code delete}: vineyard's {@code del_data} with its {@code deep} and {@code force} flags. */
@Command(name = "delete", mixinStandardHelpOptions = true, header = "Delete objects by id or name.",
        description = {"Delete objects by id or name; prints each id deleted. Blob members go with their",
                "last parent. Without --force an object another object uses as a member is kept",
                "(vineyard's rule), and the command fails."})
final class DeleteCommand extends Verb {
    @Parameters(arity = "1..*", paramLabel = "ID|NAME", converter = GetCommand.RefConverter.class,
            description = "object ids (o + 16 hex digits) or names")
    List<ObjectRef> refs;

    @Option(names = "--deep", description = "also delete member objects no other object uses")
    boolean deep;

    @Option(names = "--force", description = "delete even when other objects use it (they are deleted too)")
    boolean force;

    @Override
    int run(Session session) throws Exception {
        List<ObjectId> ids = new ArrayList<>();
        for (ObjectRef ref : refs) {
            ids.add(session.resolve(ref));
        }
        for (ObjectId id : ids) {
            if (!session.exists(id)) {
                throw Session.notFound(id, null);
            }
            session.delete(id, deep, force);
            if (session.exists(id)) {
                throw new CtlException(ExitCode.FAILED, "object " + id
                        + " was kept: another object uses it as a member (--force deletes both)", null);
            }
            out().println(id);
        }
        return ExitCode.OK;
    }
}
