package io.vineyard.ctl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.ObjectId;
import io.vineyard.common.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code names}: every name and the object it is bound to, sorted by name. */
@Command(name = "names", mixinStandardHelpOptions = true, header = "List names and their objects.",
        description = {"List names: one line per name, NAME<TAB>ID; --json: one JSON object {name: id}."})
final class NamesCommand extends Verb {
    @Option(names = "--pattern", paramLabel = "GLOB", defaultValue = "*",
            description = "name glob, or a regex with --regex (default: ${DEFAULT-VALUE})")
    String pattern;

    @Option(names = "--regex", description = "--pattern is a regular expression (whole name)")
    boolean regex;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    int run(Session session) throws Exception {
        Map<String, ObjectId> names = session.names(pattern, regex, Session.NO_LIMIT);
        if (json) {
            ObjectNode o = Json.object();
            names.forEach((n, id) -> o.put(n, id.toString()));
            printJson(o);
            return ExitCode.OK;
        }
        names.forEach((n, id) -> out().println(n + "\t" + id));
        return ExitCode.OK;
    }

    /** Every object's names, sorted. */
    static Map<ObjectId, List<String>> byObject(Session session) {
        Map<ObjectId, List<String>> out = new LinkedHashMap<>();
        session.names("*", false, Session.NO_LIMIT).forEach((n, id) -> out.computeIfAbsent(id, k -> new ArrayList<>()).add(n));
        return out;
    }
}
