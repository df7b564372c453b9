package io.vineyard.client;

import io.vineyard.client.types.Tensor;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A client process of a session, for the kill -9 test: connects to the session socket given as the
 * argument, puts a tensor named {@code kept}, prints {@code put} and blocks on stdin (the parent kills it).
 */
public final class SessionPeer {
    private SessionPeer() {
    }

    public static void main(String[] args) throws java.io.IOException {
        IpcClient client = IpcClient.connect(args[0]);
        client.putNamed(Tensor.of(new long[] {7, 8, 9}), "kept");
        client.createBlob(4096); // and an unsealed blob, which its death must free
        System.out.println("put");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        throw new IllegalStateException("the parent was to kill this process");
    }
}
