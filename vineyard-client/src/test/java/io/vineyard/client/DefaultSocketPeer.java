package io.vineyard.client;

/**
 * Connects with {@link IpcClient#connect()} (no socket given) and prints the daemon's instance id and
 * the socket the client chose: the default-socket test runs it with a chosen environment.
 */
public final class DefaultSocketPeer {
    private DefaultSocketPeer() {
    }

    public static void main(String[] args) {
        try (IpcClient client = IpcClient.connect()) {
            System.out.println("connected instance=" + client.instanceId() + " socket=" + IpcConnection.defaultSocket());
        }
    }
}
