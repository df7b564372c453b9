package io.vineyard.ctl;

import io.vineyard.client.IpcClient;
import io.vineyard.client.TestDaemon;
import io.vineyard.client.types.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code vineyardctl sessions} lists the root session and those a client made, with their usage and limit. */
class VineyardctlSessionsTest {
    @RegisterExtension
    final TestDaemon vineyard = new TestDaemon("--size=64Mi");

    private String sessions() {
        return VineyardctlSpillTest.ctl(vineyard.daemon().socket(), 0, "sessions")[0];
    }

    @Test
    void listsEverySessionWithItsUsageLimitAndSocket() {
        String socket = vineyard.daemon().socket();
        try (IpcClient s = vineyard.client().newSession(1L << 20)) {
            s.put(Tensor.of(new long[1000]));
            String id = String.format("S%016x", s.sessionId());
            String[] lines = sessions().split("\n");
            assertEquals(2, lines.length);
            // the root's connections: the test's client and vineyardctl's
            assertEquals("S0000000000000000\tnormal\t0\t" + (64L << 20) + "\t2\t" + socket, lines[0]);
            assertEquals(id + "\tnormal\t8000\t" + (1L << 20) + "\t1\t" + socket + "." + id, lines[1]);
        }
        assertTrue(sessions().startsWith("S0000000000000000\t"));
    }
}
