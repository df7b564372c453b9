package io.vineyard.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServerConfigTest {
    @Test
    void sizesTakeVineyardsSuffixes() {
        assertEquals(2048, ServerConfig.parseSize("2048"));
        assertEquals(1024L * 1000 * 1000, ServerConfig.parseSize("1024M"));
        assertEquals(2L << 30, ServerConfig.parseSize("2Gi"));
        assertEquals(10L << 30, ServerConfig.parseSize("10Gi"));
        assertEquals(3L << 10, ServerConfig.parseSize("3Ki"));
        assertEquals(4_000_000_000L, ServerConfig.parseSize("4G"));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parseSize("12Q"));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parseSize("lots"));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parseSize("99999999Ei"));
    }

    @Test
    void gflagsStyles() {
        ServerConfig c = ServerConfig.parse(new String[] {"--socket", "/tmp/x.sock", "-size=1Gi", "--norpc",
                "--rpc_socket_port=9700", "--reserve_memory"});
        assertEquals("/tmp/x.sock", c.socketPath());
        assertEquals(1L << 30, c.sizeBytes());
        assertFalse(c.rpc());
        assertEquals(9700, c.rpcPort());
        assertTrue(c.reserveMemory());
        assertEquals("local", c.meta());
        assertEquals(50, c.spinMicros(), "busy-wait 50 us for the next request by default");
        assertEquals(0, ServerConfig.parse(new String[] {"--spin_us=0"}).spinMicros());
    }

    @Test
    void badFlagsAreRefusedWithAReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--meta=etcd"}));
        assertTrue(e.getMessage().contains("only 'local'"));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--no_such_flag=1"}));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--rpc_socket_port=70000"}));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--spin_us=-1"}));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--socket=/" + "x".repeat(120)}));
        assertThrows(ServerConfig.HelpRequested.class, () -> ServerConfig.parse(new String[] {"--help"}));
    }

    @Test
    void aPoolLargerThanDevShmIsRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> io.vineyard.server.memory.SharedMemoryPool.create(1L << 50, false));
        assertTrue(e.getMessage().contains("/dev/shm"), e.getMessage());
    }
}
