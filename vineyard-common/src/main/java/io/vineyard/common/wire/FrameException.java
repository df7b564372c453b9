package io.vineyard.common.wire;

/** A framing error: the peer declared an oversized frame, or closed mid-frame. The connection is unusable. */
public final class FrameException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public FrameException(String message) {
        super(message);
    }
}
