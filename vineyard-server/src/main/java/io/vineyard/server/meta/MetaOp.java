package io.vineyard.server.meta;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.common.Json;

import java.io.IOException;

/**
 * One change to the shared metadata backend, with vineyard's keys (spec 6.2): {@code /data/o<hex>},
 * {@code /data/o<hex>/<field>}, {@code /names/<escaped>}, {@code /signatures/i<inst>/s<hex>},
 * {@code /instances/i<inst>/<field>}, {@code /next_instance_id}, all after the backend's prefix.
 *
 * @param key    the key after the prefix, starting with {@code /}
 * @param value  the JSON text to store, or null to delete
 * @param prefix with a null value: delete every key under {@code key + "/"} too
 * @param json   the value parsed already, or null: a replica parses what it received before it takes the
 *               store lock ({@link #received})
 */
public record MetaOp(String key, String value, boolean prefix, JsonNode json) {
    public static MetaOp put(String key, String value) {
        return new MetaOp(key, value, false, null);
    }

    /**
     * A put received from the backend, its value parsed now (outside the store lock); a value that is not
     * JSON stays unparsed, for the replica to report.
     */
    public static MetaOp received(String key, String value) {
        JsonNode parsed;
        try {
            parsed = Json.MAPPER.readTree(value);
        } catch (IOException notJson) {
            parsed = null;
        }
        return new MetaOp(key, value, false, parsed);
    }

    public static MetaOp delete(String key) {
        return new MetaOp(key, null, false, null);
    }

    /** Deletes {@code key} and everything under {@code key/}. */
    public static MetaOp deleteTree(String key) {
        return new MetaOp(key, null, true, null);
    }

    public boolean isDelete() {
        return value == null;
    }
}
