package io.vineyard.ctl;

import io.vineyard.client.ObjectId;

import java.util.regex.Pattern;

/**
 * An object named on the command line: an id in vineyard's text form ({@code o} and 16 hex digits) or,
 * for anything else, a name.
 *
 * @param id   the id, or null for a name
 * @param name the name, or null for an id
 */
record ObjectRef(ObjectId id, String name) {
    private static final Pattern ID = Pattern.compile("o[0-9a-fA-F]{16}");

    /** picocli's converter: {@code o0001...} is an id, anything else non-empty a name. */
    static ObjectRef parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("an object id (o + 16 hex digits) or a name is needed, got ''");
        }
        if (ID.matcher(text).matches()) {
            return new ObjectRef(ObjectId.parse(text.toLowerCase(java.util.Locale.ROOT)), null);
        }
        return new ObjectRef(null, text);
    }

    @Override
    public String toString() {
        return id != null ? id.toString() : "'" + name + "'";
    }
}
