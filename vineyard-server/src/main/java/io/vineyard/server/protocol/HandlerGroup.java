package io.vineyard.server.protocol;

import java.util.Map;

/** The handlers of one concern (blobs, metadata, names, ...), by request type. */
public interface HandlerGroup {
    Map<String, Handler> handlers();
}
