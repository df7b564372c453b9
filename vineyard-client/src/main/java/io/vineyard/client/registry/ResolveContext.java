package io.vineyard.client.registry;

import io.vineyard.client.Blob;
import io.vineyard.client.Client;
import io.vineyard.client.VineyardObject;
import io.vineyard.client.meta.ObjectMeta;

/** What a resolver may use while reading an object: its blobs, nested resolution and options. */
public interface ResolveContext {
    /** The client the object is read through. */
    Client client();

    /** The got object: retain it for every value that keeps views of its blobs. */
    VineyardObject object();

    /** The bytes of a blob entry of the object. */
    Blob blob(ObjectMeta blobEntry);

    /** Resolves a member with its registered type, as {@code type}. */
    <R> R resolve(ObjectMeta member, Class<R> type);

    /** An option passed to the get ({@code Client.get(id, type, options...)}), by type, or null. */
    <O> O option(Class<O> type);
}
