package io.vineyard.server.meta;

/**
 * One change to the shared metadata backend, with vineyard's keys (spec 6.2): {@code /data/o<hex>},
 * {@code /data/o<hex>/<field>}, {@code /names/<escaped>}, {@code /signatures/i<inst>/s<hex>},
 * {@code /instances/i<inst>/<field>}, {@code /next_instance_id}, all after the backend's prefix.
 *
 * @param key    the key after the prefix, starting with {@code /}
 * @param value  the JSON text to store, or null to delete
 * @param prefix with a null value: delete every key under {@code key + "/"} too
 */
public record MetaOp(String key, String value, boolean prefix) {
    public static MetaOp put(String key, String value) {
        return new MetaOp(key, value, false);
    }

    public static MetaOp delete(String key) {
        return new MetaOp(key, null, false);
    }

    /** Deletes {@code key} and everything under {@code key/}. */
    public static MetaOp deleteTree(String key) {
        return new MetaOp(key, null, true);
    }

    public boolean isDelete() {
        return value == null;
    }
}
