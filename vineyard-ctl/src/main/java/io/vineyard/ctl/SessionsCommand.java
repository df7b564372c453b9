package io.vineyard.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.common.ObjectIds;
import picocli.CommandLine.Command;

/**
 * {@code sessions}: the daemon's sessions (vineyard's {@code new_session}), the root one first, one
 * line each: {@code S<id>  KIND  USAGE  LIMIT  CONNECTIONS  SOCKET[  deleted]}.
 */
@Command(name = "sessions", mixinStandardHelpOptions = true, header = "The daemon's sessions.",
        description = {"One line per session, the root session first:",
                "S<ID><TAB>normal|plasma<TAB>USAGE_BYTES<TAB>LIMIT_BYTES<TAB>CONNECTIONS<TAB>SOCKET[<TAB>deleted]",
                "(deleted: delete_session was sent, the session ends with its last connection)."})
final class SessionsCommand extends Verb {
    @Override
    int run(Session session) {
        for (JsonNode s : session.sessions()) {
            out().println(ObjectIds.sessionText(s.path("session_id").asLong()) + "\t"
                    + (s.path("bulk_store_type").asInt() == 2 ? "plasma" : "normal") + "\t"
                    + s.path("memory_usage").asLong() + "\t" + s.path("memory_limit").asLong() + "\t"
                    + s.path("connections").asLong() + "\t" + s.path("socket_path").asText()
                    + (s.path("closable").asBoolean() ? "\tdeleted" : ""));
        }
        return ExitCode.OK;
    }
}
