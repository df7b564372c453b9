package io.vineyard.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The mutating admission webhook's one decision: a Pod annotated {@value #INJECT}{@code : "true"} gets the
 * vineyard socket directory of its node, as the chart's application pods mount it by hand
 * (deploy/examples/pod-requires-data.yaml): a hostPath volume {@value #VOLUME} of the directory, mounted at
 * the same path in every container and init container, and {@code VINEYARD_IPC_SOCKET} naming the socket.
 * Whatever the pod already has (a volume of that name, a mount at that path, the variable) is kept. Every
 * other pod is admitted unchanged. The wire shapes ({@code admission.k8s.io/v1}):
 * <pre>
 *   AdmissionReview in   {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
 *                         "request": {"uid": string, "object": Pod, ...}}
 *   AdmissionReview out  {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
 *                         "response": {"uid": the request's, "allowed": true,
 *                                      "patchType": "JSONPatch", "patch": base64(RFC 6902 JSON Patch)}}
 * </pre>
 * The webhook never refuses a pod: a pod it cannot patch is admitted as it is, with a warning.
 */
final class SocketInjector {
    /** The pod annotation asking for the socket. */
    static final String INJECT = "k8s.v6d.io/inject-socket";
    static final String VOLUME = "vineyard-socket";
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final String socketDir;

    /** Injects {@code socketDir} (the daemons' socket directory, holding {@code vineyard.sock}). */
    SocketInjector(String socketDir) {
        this.socketDir = socketDir.endsWith("/") && socketDir.length() > 1 ? socketDir.substring(0, socketDir.length() - 1) : socketDir;
    }

    /**
     * The review's answer.
     *
     * @throws IllegalArgumentException when {@code review} is not an AdmissionReview with a request uid
     */
    ObjectNode review(JsonNode review) {
        JsonNode request = review.path("request");
        if (!"AdmissionReview".equals(review.path("kind").asText()) || !request.path("uid").isTextual()) {
            throw new IllegalArgumentException("not an AdmissionReview with a request uid");
        }
        ObjectNode out = JSON.objectNode();
        out.put("apiVersion", review.path("apiVersion").asText("admission.k8s.io/v1"));
        out.put("kind", "AdmissionReview");
        ObjectNode response = out.putObject("response");
        response.put("uid", request.path("uid").asText());
        response.put("allowed", true);
        JsonNode pod = request.path("object");
        if (!"true".equalsIgnoreCase(pod.path("metadata").path("annotations").path(INJECT).asText())) {
            return out;
        }
        if (!pod.path("spec").path("containers").isArray()) {
            response.putArray("warnings").add("vineyard: the pod has no spec.containers; the socket was not injected");
            return out;
        }
        ArrayNode patch = patch(pod.path("spec"));
        if (!patch.isEmpty()) {
            response.put("patchType", "JSONPatch");
            response.put("patch", Base64.getEncoder().encodeToString(patch.toString().getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    /** The JSON Patch that adds what {@code spec} lacks. */
    private ArrayNode patch(JsonNode spec) {
        ArrayNode ops = JSON.arrayNode();
        ObjectNode volume = JSON.objectNode().put("name", VOLUME);
        volume.putObject("hostPath").put("path", socketDir).put("type", "Directory");
        appendTo(ops, spec.path("volumes"), "/spec/volumes", volume, v -> VOLUME.equals(v.path("name").asText()));
        for (String kind : new String[] {"initContainers", "containers"}) {
            JsonNode containers = spec.path(kind);
            for (int i = 0; i < containers.size(); i++) {
                JsonNode c = containers.get(i);
                String base = "/spec/" + kind + "/" + i;
                ObjectNode mount = JSON.objectNode().put("name", VOLUME).put("mountPath", socketDir);
                appendTo(ops, c.path("volumeMounts"), base + "/volumeMounts", mount, m -> socketDir.equals(m.path("mountPath").asText()));
                ObjectNode env = JSON.objectNode().put("name", "VINEYARD_IPC_SOCKET").put("value", socketDir + "/vineyard.sock");
                appendTo(ops, c.path("env"), base + "/env", env, e -> "VINEYARD_IPC_SOCKET".equals(e.path("name").asText()));
            }
        }
        return ops;
    }

    /** Adds {@code value} to the array at {@code path} (creating it when absent) unless an element {@code present}. */
    private static void appendTo(ArrayNode ops, JsonNode array, String path, ObjectNode value, java.util.function.Predicate<JsonNode> present) {
        if (array.isArray()) {
            for (JsonNode e : array) {
                if (present.test(e)) {
                    return;
                }
            }
            ops.addObject().put("op", "add").put("path", path + "/-").set("value", value);
        } else {
            ops.addObject().put("op", "add").put("path", path).set("value", JSON.arrayNode().add(value));
        }
    }
}
