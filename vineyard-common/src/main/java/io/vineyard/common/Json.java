package io.vineyard.common;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.math.BigInteger;

/**
 * The JSON conventions of vineyard's wire: ids and sizes are unsigned 64-bit numbers, lists may be
 * encoded as arrays or as {@code "num"} plus {@code "0"}, {@code "1"}, ... keys.
 */
public final class Json {
    /** One shared mapper; parsing limits sized for vineyard's 256 MiB frames. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    public static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength(Integer.MAX_VALUE)
                .maxNestingDepth(10_000)
                .maxNumberLength(1000)
                .build());
    }

    private Json() {
    }

    public static ObjectNode object() {
        return NODES.objectNode();
    }

    /** An unsigned 64-bit value as a JSON number (values with bit 63 set print as 2^63 and up). */
    public static JsonNode u64(long value) {
        if (value >= 0) {
            return LongNode.valueOf(value);
        }
        return BigIntegerNode.valueOf(new BigInteger(Long.toUnsignedString(value)));
    }

    /**
     * Reads an unsigned 64-bit integer: any integral JSON number (negative ones wrap, as C++'s
     * {@code size_t} does), or an {@code o<hex>} string.
     *
     * @throws VineyardException.Invalid when the node is missing or not such a value
     */
    public static long readU64(JsonNode node, String field) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            throw new VineyardException.Invalid("missing field '" + field + "'");
        }
        if (node.isIntegralNumber()) {
            return node.isBigInteger() ? node.bigIntegerValue().longValue() : node.longValue();
        }
        if (node.isTextual()) {
            try {
                return ObjectIds.parseText(node.textValue());
            } catch (NumberFormatException e) {
                throw new VineyardException.Invalid("field '" + field + "' is not an id: " + node.textValue());
            }
        }
        throw new VineyardException.Invalid("field '" + field + "' must be an unsigned integer, got "
                + node.getNodeType().name().toLowerCase());
    }

    public static byte[] write(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }

    /** Parses one JSON document. */
    public static JsonNode parse(byte[] body) throws IOException {
        JsonNode node = MAPPER.readTree(body);
        if (node == null || node.isMissingNode()) {
            throw new IOException("unexpected end of input: the body holds no JSON value");
        }
        return node;
    }

    /** vineyard's error reply: {@code {"code": N, "message": "..."}}, no {@code type}. */
    public static ObjectNode errorReply(Status status, String message) {
        ObjectNode reply = object();
        reply.put("code", status.code());
        reply.put("message", message);
        return reply;
    }
}
