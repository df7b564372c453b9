package io.vineyard.server.meta;

import io.vineyard.common.ObjectIds;

/** vineyard's backend keys (spec 6.2) and its escaping of names as JSON pointer tokens. */
public final class MetaKeys {
    private MetaKeys() {
    }

    public static String data(long id) {
        return "/data/" + ObjectIds.toText(id);
    }

    public static String dataField(long id, String field) {
        return data(id) + "/" + field;
    }

    public static String name(String name) {
        return "/names/" + escape(name);
    }

    public static String signature(long instance, long signature) {
        return "/signatures/i" + instance + "/" + ObjectIds.signatureText(signature);
    }

    public static String instance(long instance) {
        return "/instances/i" + instance;
    }

    public static final String NEXT_INSTANCE_ID = "/next_instance_id";

    /** {@code ~} to {@code ~0} and {@code /} to {@code ~1} (RFC 6901, vineyard's {@code escape_json_pointer}). */
    public static String escape(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }

    public static String unescape(String token) {
        return token.replace("~1", "/").replace("~0", "~");
    }
}
