package com.example;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.types.Tensor;

/**
 * Puts a tensor into a running vineyardd, names it, reads it back from the shared memory and deletes it.
 * Usage: {@code java -jar target/vineyard-example-1.0.jar [SOCKET]} (default: {@code $VINEYARD_IPC_SOCKET}).
 */
public final class VineyardExample {
    private VineyardExample() {
    }

    public static void main(String[] args) {
        try (IpcClient client = args.length > 0 ? IpcClient.connect(args[0]) : IpcClient.connect()) {
            ObjectId id = client.putNamed(Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3), "example-tensor");
            try (Tensor t = client.get("example-tensor", Tensor.class)) {
                System.out.println("put " + id + " as 'example-tensor', read back " + t + ": t[1][2] = "
                        + t.getDouble(new long[] {1, 2}));
            }
            client.delete(id);
            System.out.println("deleted " + id + "; the daemon uses " + client.status().memoryUsage() + " bytes");
        }
    }
}
