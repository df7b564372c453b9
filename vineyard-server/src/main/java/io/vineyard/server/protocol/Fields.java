package io.vineyard.server.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.List;

/**
 * Typed reads of request fields; every missing or ill-typed field becomes an {@code Invalid} error
 * that names the field and the request.
 */
public final class Fields {
    private Fields() {
    }

    public static long u64(ObjectNode req, String field) {
        return Json.readU64(req.get(field), field);
    }

    public static long u64(ObjectNode req, String field, long dflt) {
        JsonNode n = req.get(field);
        return n == null || n.isNull() ? dflt : Json.readU64(n, field);
    }

    public static boolean bool(ObjectNode req, String field, boolean dflt) {
        JsonNode n = req.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isIntegralNumber()) {
            return n.longValue() != 0;
        }
        throw new VineyardException.Invalid("field '" + field + "' must be a bool, got " + type(n));
    }

    public static String string(ObjectNode req, String field) {
        JsonNode n = req.get(field);
        if (n == null || n.isNull()) {
            throw new VineyardException.Invalid("missing field '" + field + "'");
        }
        if (!n.isTextual()) {
            throw new VineyardException.Invalid("field '" + field + "' must be a string, got " + type(n));
        }
        return n.textValue();
    }

    public static String string(ObjectNode req, String field, String dflt) {
        JsonNode n = req.get(field);
        return n == null || n.isNull() ? dflt : string(req, field);
    }

    /** A list of ids: an array under {@code field}, or a single id there. */
    public static long[] idArray(ObjectNode req, String field) {
        JsonNode n = req.get(field);
        if (n == null || n.isNull()) {
            throw new VineyardException.Invalid("missing field '" + field + "'");
        }
        if (!n.isArray()) {
            return new long[] {Json.readU64(n, field)};
        }
        long[] out = new long[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Json.readU64(n.get(i), field + "[" + i + "]");
        }
        return out;
    }

    /** vineyard's two list encodings: {@code field: [...]}, or {@code num} plus {@code "0"}, {@code "1"}, .... */
    public static long[] legacyIds(ObjectNode req, String field) {
        JsonNode arr = req.get(field);
        if (arr != null && arr.isArray()) {
            return idArray(req, field);
        }
        long num = u64(req, "num", 0);
        if (num < 0 || num > 1_000_000) {
            throw new VineyardException.Invalid("field 'num' is out of range: " + Long.toUnsignedString(num));
        }
        long[] out = new long[(int) num];
        for (int i = 0; i < out.length; i++) {
            out[i] = Json.readU64(req.get(Integer.toString(i)), Integer.toString(i));
        }
        return out;
    }

    public static List<String> strings(ObjectNode req, String field) {
        JsonNode n = req.get(field);
        if (n == null || !n.isArray()) {
            throw new VineyardException.Invalid("field '" + field + "' must be an array of strings");
        }
        List<String> out = new ArrayList<>(n.size());
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw new VineyardException.Invalid("field '" + field + "' must hold strings, got " + type(e));
            }
            out.add(e.textValue());
        }
        return out;
    }

    /** Writes a list both ways, as vineyard's writers do: {@code field: [...]} and {@code "0"}, {@code "1"}, .... */
    public static void putLegacyList(ObjectNode reply, String field, List<? extends JsonNode> items) {
        ArrayNode arr = reply.putArray(field);
        for (int i = 0; i < items.size(); i++) {
            reply.set(Integer.toString(i), items.get(i));
            arr.add(items.get(i));
        }
    }

    private static String type(JsonNode n) {
        return n.getNodeType().name().toLowerCase();
    }
}
