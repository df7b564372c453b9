package io.vineyard.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The extender's two verbs for pods that name the vineyard objects they need in the annotation
 * {@value #REQUIRED}. A pod without it is left alone: filter keeps every node, prioritize scores 0.
 * <ul>
 *   <li><b>filter</b> keeps the nodes running a vineyard instance (the pod needs its socket there). While
 *       a required object does not exist yet, every node fails with that reason (resolvable: the
 *       scheduler tries again later, when its producer may have put it).</li>
 *   <li><b>prioritize</b> scores each node {@code round(10 * bytes of the required objects' blobs held on
 *       the node / bytes of all of them)}; a node without an instance, or all nodes when the objects hold
 *       no bytes, score 0.</li>
 * </ul>
 * When the daemon cannot be asked, filter answers {@code Error} (the scheduler then fails this attempt)
 * and prioritize scores 0 everywhere.
 */
final class SchedulerExtender {
    /** The pod annotation naming the objects it requires: comma-separated object names or ids. */
    static final String REQUIRED = "scheduling.k8s.v6d.io/required";

    private final Function<List<String>, DataLocality.Placement> locality;

    SchedulerExtender(Function<List<String>, DataLocality.Placement> locality) {
        this.locality = locality;
    }

    /** {@code POST /filter}: an ExtenderArgs in, an ExtenderFilterResult out. */
    ObjectNode filter(JsonNode body) {
        ExtenderWire.Args args;
        try {
            args = ExtenderWire.args(body);
        } catch (IllegalArgumentException e) {
            return ExtenderWire.filterResult(null, List.of(), Map.of(), e.getMessage());
        }
        List<String> refs = required(args);
        if (refs.isEmpty()) {
            return ExtenderWire.filterResult(args, args.nodeNames(), Map.of(), "");
        }
        DataLocality.Placement p;
        try {
            p = locality.apply(refs);
        } catch (RuntimeException e) {
            return ExtenderWire.filterResult(args, List.of(), Map.of(),
                    "pod " + args.podName() + ": cannot ask vineyard where " + refs + " live: " + e.getMessage());
        }
        List<String> kept = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        for (String node : args.nodeNames()) {
            if (!p.missing().isEmpty()) {
                failed.put(node, "vineyard object(s) " + String.join(", ", p.missing()) + " required by the pod do not exist (yet)");
            } else if (!p.vineyardNodes().contains(node)) {
                failed.put(node, "no vineyard instance runs on this node");
            } else {
                kept.add(node);
            }
        }
        return ExtenderWire.filterResult(args, kept, failed, "");
    }

    /** {@code POST /prioritize}: an ExtenderArgs in, a HostPriorityList out (one entry per candidate node). */
    ArrayNode prioritize(JsonNode body) {
        ExtenderWire.Args args = ExtenderWire.args(body);
        Map<String, Integer> scores = new LinkedHashMap<>();
        args.nodeNames().forEach(n -> scores.put(n, 0));
        List<String> refs = required(args);
        if (!refs.isEmpty()) {
            DataLocality.Placement p;
            try {
                p = locality.apply(refs);
            } catch (RuntimeException e) {
                return ExtenderWire.priorities(scores); // no opinion rather than a failed scheduling cycle
            }
            if (p.totalBytes() > 0) {
                for (String node : args.nodeNames()) {
                    long held = p.bytesByNode().getOrDefault(node, 0L);
                    scores.put(node, (int) ((held * ExtenderWire.MAX_SCORE * 2 + p.totalBytes()) / (2 * p.totalBytes())));
                }
            }
        }
        return ExtenderWire.priorities(scores);
    }

    private static List<String> required(ExtenderWire.Args args) {
        String a = args.annotation(REQUIRED);
        return a == null ? List.of() : DataLocality.references(a);
    }
}
