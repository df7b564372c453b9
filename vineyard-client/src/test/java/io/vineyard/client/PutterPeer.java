package io.vineyard.client;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.registry.Registry;
import io.vineyard.client.types.Sequence;
import io.vineyard.client.types.Tensor;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The putter process of the kill -9 test: starts a put of a Sequence of two 8 MiB tensors and a
 * {@link Stall}, whose builder writes a third 8 MiB blob, prints {@code blocked} and then blocks reading
 * stdin, so the parent kills it mid-put at a point it chose. Arguments: the socket.
 */
public final class PutterPeer {
    static final long BLOB_BYTES = 8L << 20;

    private PutterPeer() {
    }

    /** A value whose builder stalls half-way through the put. */
    public record Stall() {
    }

    /** Writes a blob, says {@code blocked}, then blocks until stdin closes (the parent kills this process first). */
    private static ObjectMeta stall(BuildContext ctx, Stall value) {
        BlobWriter w = ctx.createBlob(BLOB_BYTES);
        w.segment().fill((byte) 1);
        System.out.println("blocked");
        System.out.flush();
        try {
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new IllegalStateException("the parent was to kill this process");
    }

    public static void main(String[] args) {
        Registry registry = Registry.load(PutterPeer.class.getClassLoader()).register(
                new BuilderOnlyType<>(Stall.class, "test::Stall", PutterPeer::stall));
        try (IpcClient client = IpcClient.builder().socket(args[0]).registry(registry).connect()) {
            int n = (int) (BLOB_BYTES / 8);
            client.put(new Sequence(List.of(Tensor.of(new long[n]), Tensor.of(new long[n]), new Stall())));
        }
    }
}
