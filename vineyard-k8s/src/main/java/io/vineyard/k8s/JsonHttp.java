package io.vineyard.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * JSON verbs over the JDK's HTTP(S) server, as the extender and the webhook serve them: POST a JSON body,
 * get the verb's JSON answer (200); another method is 405, a body that is not JSON or that the verb
 * refuses ({@link IllegalArgumentException}) is 400 with the reason as text.
 */
final class JsonHttp {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonHttp() {
    }

    /** Answers {@code ex} with {@code verb} applied to its body ({@code what}: the body expected, for the 405). */
    static void serve(HttpExchange ex, String what, Function<JsonNode, JsonNode> verb) throws IOException {
        if (!"POST".equals(ex.getRequestMethod())) {
            reply(ex, 405, ("POST " + what + "\n").getBytes(StandardCharsets.UTF_8), "text/plain");
            return;
        }
        JsonNode body;
        try (InputStream in = ex.getRequestBody()) {
            body = JSON.readTree(in);
        } catch (IOException e) {
            reply(ex, 400, ("not JSON: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8), "text/plain");
            return;
        }
        try {
            reply(ex, 200, JSON.writeValueAsBytes(verb.apply(body)), "application/json");
        } catch (IllegalArgumentException e) {
            reply(ex, 400, (e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8), "text/plain");
        }
    }

    /** Sends {@code body} with {@code status} and content type {@code type}. */
    static void reply(HttpExchange ex, int status, byte[] body, String type) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }
}
