package io.vineyard.server.protocol;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Serves one request type: validates the request, runs it against the stores and writes the reply
 * (or throws a {@code VineyardException}, which becomes vineyard's error reply).
 */
@FunctionalInterface
public interface Handler {
    void handle(Peer peer, ObjectNode request);
}
