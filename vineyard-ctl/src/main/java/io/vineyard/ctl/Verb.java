package io.vineyard.ctl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.common.Json;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** A leaf command: runs against one {@link Session}, prints to the command line's streams. */
abstract class Verb implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The verb's work; returns the exit code (normally {@link ExitCode#OK}). */
    abstract int run(Session session) throws Exception;

    @Override
    public final Integer call() throws Exception {
        Vineyardctl root = (Vineyardctl) spec.root().userObject();
        try (Session session = root.session()) {
            return run(session);
        }
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** A note on stderr, prefixed with the command's name. */
    void note(String text) {
        err().println(spec.qualifiedName() + ": " + text);
    }

    /** Pretty JSON on stdout, one document. */
    void printJson(JsonNode node) throws JsonProcessingException {
        out().println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node));
    }
}
