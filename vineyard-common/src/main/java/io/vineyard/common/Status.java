package io.vineyard.common;

/**
 * vineyard's status codes ({@code src/common/util/status.h} of v0.24.4), as they travel in
 * {@code {"code": N, "message": ...}} error replies.
 */
public enum Status {
    OK(0), INVALID(1), KEY_ERROR(2), TYPE_ERROR(3), IO_ERROR(4), END_OF_FILE(5), NOT_IMPLEMENTED(6),
    ASSERTION_FAILED(7), USER_INPUT_ERROR(8), OBJECT_EXISTS(11), OBJECT_NOT_EXISTS(12), OBJECT_SEALED(13),
    OBJECT_NOT_SEALED(14), OBJECT_IS_BLOB(15), OBJECT_TYPE_ERROR(16), OBJECT_SPILLED(17),
    OBJECT_NOT_SPILLED(18), META_TREE_INVALID(21), META_TREE_TYPE_INVALID(22), META_TREE_TYPE_NOT_EXISTS(23),
    META_TREE_NAME_INVALID(24), META_TREE_NAME_NOT_EXISTS(25), META_TREE_LINK_INVALID(26),
    META_TREE_SUBTREE_NOT_EXISTS(27), VINEYARD_SERVER_NOT_READY(31), ARROW_ERROR(32), CONNECTION_FAILED(33),
    CONNECTION_ERROR(34), ETCD_ERROR(35), ALREADY_STOPPED(36), REDIS_ERROR(37), NOT_ENOUGH_MEMORY(41),
    STREAM_DRAINED(42), STREAM_FAILED(43), INVALID_STREAM_STATE(44), STREAM_OPENED(45),
    GLOBAL_OBJECT_INVALID(51), UNKNOWN_ERROR(255);

    private static final Status[] BY_CODE = new Status[256];

    static {
        for (Status s : values()) {
            BY_CODE[s.code] = s;
        }
    }

    private final int code;

    Status(int code) {
        this.code = code;
    }

    /** The numeric code on the wire. */
    public int code() {
        return code;
    }

    /** The status of a wire code; unknown codes map to {@link #UNKNOWN_ERROR}. */
    public static Status of(int code) {
        if (code < 0 || code >= BY_CODE.length || BY_CODE[code] == null) {
            return UNKNOWN_ERROR;
        }
        return BY_CODE[code];
    }
}
