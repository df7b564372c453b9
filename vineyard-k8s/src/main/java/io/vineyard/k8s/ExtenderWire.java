package io.vineyard.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * kube-scheduler's extender wire shapes ({@code k8s.io/kube-scheduler/extender/v1}). Those Go structs have
 * no json tags, so their keys are the Go field names; the embedded Pod and NodeList are the core API's
 * objects with their usual lower-case keys:
 * <pre>
 *   ExtenderArgs          {"Pod": Pod, "Nodes": NodeList | null, "NodeNames": [string] | null}
 *   ExtenderFilterResult  {"Nodes": NodeList | null, "NodeNames": [string] | null,
 *                          "FailedNodes": {node: reason}, "FailedAndUnresolvableNodes": {node: reason},
 *                          "Error": string}
 *   HostPriorityList      [{"Host": string, "Score": int64}]     (Score 0..MaxExtenderPriority = 10)
 * </pre>
 * With {@code nodeCacheCapable: false} the scheduler sends (and expects back) whole Nodes; with
 * {@code true}, NodeNames only.
 */
final class ExtenderWire {
    /** kube-scheduler's {@code MaxExtenderPriority}. */
    static final int MAX_SCORE = 10;

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private ExtenderWire() {
    }

    /**
     * One decoded {@code ExtenderArgs}.
     *
     * @param pod       the pod being scheduled (its JSON)
     * @param nodeNames the candidate nodes' names, in the order sent
     * @param nodes     the candidate Node objects by name when sent whole ({@code nodeCacheCapable: false}),
     *                  else null
     */
    record Args(JsonNode pod, List<String> nodeNames, Map<String, JsonNode> nodes) {
        /** The pod's annotation {@code key}, or null. */
        String annotation(String key) {
            JsonNode v = pod.path("metadata").path("annotations").get(key);
            return v == null || v.isNull() ? null : v.asText();
        }

        /** "namespace/name" of the pod, for messages. */
        String podName() {
            JsonNode m = pod.path("metadata");
            return m.path("namespace").asText("default") + "/" + m.path("name").asText("?");
        }
    }

    /** Decodes an ExtenderArgs; throws {@link IllegalArgumentException} when it has neither Nodes nor NodeNames. */
    static Args args(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw new IllegalArgumentException("ExtenderArgs must be a JSON object");
        }
        JsonNode pod = body.path("Pod");
        if (!pod.isObject()) {
            throw new IllegalArgumentException("ExtenderArgs has no Pod");
        }
        JsonNode nodes = body.get("Nodes");
        if (nodes != null && nodes.isObject()) {
            Map<String, JsonNode> byName = new LinkedHashMap<>();
            for (JsonNode n : nodes.path("items")) {
                String name = n.path("metadata").path("name").asText("");
                if (name.isEmpty()) {
                    throw new IllegalArgumentException("ExtenderArgs.Nodes has a Node without metadata.name");
                }
                byName.put(name, n);
            }
            return new Args(pod, List.copyOf(byName.keySet()), byName);
        }
        JsonNode names = body.get("NodeNames");
        if (names != null && names.isArray()) {
            List<String> out = new ArrayList<>();
            names.forEach(n -> out.add(n.asText()));
            return new Args(pod, List.copyOf(out), null);
        }
        throw new IllegalArgumentException("ExtenderArgs has neither Nodes nor NodeNames");
    }

    /** An ExtenderFilterResult keeping {@code kept} (in the shape the args came in) and failing the rest. */
    static ObjectNode filterResult(Args args, List<String> kept, Map<String, String> failed, String error) {
        ObjectNode r = JSON.objectNode();
        if (args != null && args.nodes() != null) {
            ObjectNode list = r.putObject("Nodes");
            list.put("apiVersion", "v1");
            list.put("kind", "NodeList");
            list.putObject("metadata");
            ArrayNode items = list.putArray("items");
            kept.forEach(n -> items.add(args.nodes().get(n)));
            r.putNull("NodeNames");
        } else {
            r.putNull("Nodes");
            if (args == null) {
                r.putNull("NodeNames");
            } else {
                ArrayNode names = r.putArray("NodeNames");
                kept.forEach(names::add);
            }
        }
        ObjectNode f = r.putObject("FailedNodes");
        failed.forEach(f::put);
        r.putObject("FailedAndUnresolvableNodes");
        r.put("Error", error);
        return r;
    }

    /** A HostPriorityList, in the order of {@code scores}. */
    static ArrayNode priorities(Map<String, Integer> scores) {
        ArrayNode list = JSON.arrayNode();
        scores.forEach((host, score) -> list.addObject().put("Host", host).put("Score", (long) score));
        return list;
    }
}
