package io.vineyard.server;

import io.vineyard.server.logging.LogSettings;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
    void kubernetesFlags() {
        ServerConfig plain = ServerConfig.parse(new String[0]);
        assertEquals("", plain.nodename(), "empty: cluster_meta reports the host name");
        assertFalse(plain.crds().enabled(), "--sync_crds is off by default");
        ServerConfig c = ServerConfig.parse(new String[] {"--nodename=node-7", "--sync_crds", "--k8s_api=https://10.0.0.1:6443",
                "--k8s_namespace=data"});
        assertEquals("node-7", c.nodename());
        assertEquals(new ServerConfig.CrdSettings(true, "https://10.0.0.1:6443", "data"), c.crds());
        assertTrue(c.warnings().isEmpty(), "--sync_crds is no longer an ignored flag: " + c.warnings());
    }

    @Test
    void syncCrdsWithoutVineyardK8sOnTheClasspathSaysWhatIsMissing() {
        // this module's test classpath has no vineyard-k8s: the daemon refuses to start with this message
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> io.vineyard.server.daemon.DaemonSidecar.find("sync_crds", "vineyard-k8s"));
        assertEquals("--sync_crds needs vineyard-k8s on the daemon's classpath (the distribution's lib/ has it)", e.getMessage());
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
    void dirtyDecayDefaultsToTenSecondsAndRefusesWhatIsNotMilliseconds() {
        assertEquals(10_000, ServerConfig.parse(new String[] {"--size=1Gi"}).dirtyDecayMs());
        assertEquals(0, ServerConfig.parse(new String[] {"--size=1Gi", "--dirty_decay_ms=0"}).dirtyDecayMs());
        assertEquals(250, ServerConfig.parse(new String[] {"--size=1Gi", "--dirty_decay_ms=250"}).dirtyDecayMs());
        assertEquals(250, ServerConfig.parse(new String[] {"--size=1Gi", "--dirty_decay_ms=250"}).forSession("/tmp/s", 1 << 20).dirtyDecayMs());
        for (String bad : new String[] {"--dirty_decay_ms=-1", "--dirty_decay_ms=10s"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {bad}));
            assertTrue(e.getMessage().startsWith("--dirty_decay_ms: expected milliseconds >= 0"), e.getMessage());
        }
    }

    @Test
    void theFdWarmupIsOnByDefaultAndTurnsOffWithNowarmup() {
        assertTrue(ServerConfig.parse(new String[] {"--size=1Gi"}).warmup());
        assertFalse(ServerConfig.parse(new String[] {"--size=1Gi", "--nowarmup"}).warmup());
        assertFalse(ServerConfig.parse(new String[] {"--size=1Gi", "--warmup=false"}).warmup());
        assertTrue(ServerConfig.parse(new String[] {"--size=1Gi", "--warmup"}).warmup());
        assertFalse(ServerConfig.parse(new String[] {"--size=1Gi"}).forSession("/tmp/s.sock", 1 << 20).warmup(),
                "a session's configuration never warms up again");
        var e = assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--warmup=often"}));
        assertTrue(e.getMessage().contains("warmup"), e.getMessage());
    }

    @Test
    void warmMemoryDefaultsTo256MiBCappedAtTheSizeAndIsTheWholePoolWhenReserved() {
        assertEquals(256L << 20, ServerConfig.parse(new String[] {"--size=1Gi"}).warmBytes());
        assertEquals(64L << 20, ServerConfig.parse(new String[] {"--size=64Mi"}).warmBytes());
        assertEquals(ServerConfig.DEFAULT_PLATFORM_CONNECTIONS, ServerConfig.parse(new String[] {"--size=1Gi"}).platformConnections());
        assertEquals(0, ServerConfig.parse(new String[] {"--size=1Gi", "--platform_connections=0"}).platformConnections());
        var lane = assertThrows(IllegalArgumentException.class,
                () -> ServerConfig.parse(new String[] {"--size=1Gi", "--platform_connections=-2"}));
        assertTrue(lane.getMessage().contains("--platform_connections must be 0 or more"), lane.getMessage());
        assertEquals(0, ServerConfig.parse(new String[] {"--size=1Gi", "--warm_memory=0"}).warmBytes());
        assertEquals(16L << 20, ServerConfig.parse(new String[] {"--size=1Gi", "--warm_memory=16Mi"}).warmBytes());
        assertEquals(1L << 30, ServerConfig.parse(new String[] {"--size=1Gi", "--reserve_memory"}).warmBytes());
        var e = assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--warm_memory=lots"}));
        assertTrue(e.getMessage().startsWith("--warm_memory 'lots'"), e.getMessage());
    }

    @Test
    void badFlagsAreRefusedWithAReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--meta=redis"}));
        assertTrue(e.getMessage().contains("'local'") && e.getMessage().contains("'etcd'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--meta_timeout=0"}));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--etcd_lease_ttl=x"}));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--no_such_flag=1"}));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--rpc_socket_port=70000"}));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--spin_us=-1"}));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--socket=/" + "x".repeat(120)}));
        assertThrows(ServerConfig.HelpRequested.class, () -> ServerConfig.parse(new String[] {"--help"}));
    }

    @Test
    void etcdFlags() {
        ServerConfig defaults = ServerConfig.parse(new String[] {"--socket=/tmp/x.sock"});
        assertEquals("local", defaults.meta(), "the embedded backend stays the default");
        assertEquals(java.util.List.of("http://127.0.0.1:2379"), defaults.etcd().endpoints(), "vineyard's default endpoint");
        assertEquals("vineyard/S0000000000000000", defaults.etcd().sessionPrefix());
        assertEquals(60, defaults.etcd().metaTimeoutSec());
        ServerConfig set = ServerConfig.parse(new String[] {"--socket=/tmp/x.sock", "--meta=etcd",
                "--etcd_endpoint=10.0.0.1:2379,http://10.0.0.2:2379", "--etcd_prefix=team/", "--meta_timeout=5",
                "--etcd_lease_ttl=4"});
        assertEquals("etcd", set.meta());
        assertEquals(java.util.List.of("http://10.0.0.1:2379", "http://10.0.0.2:2379"), set.etcd().endpoints());
        assertEquals("team/S0000000000000000", set.etcd().sessionPrefix());
        assertEquals(5, set.etcd().metaTimeoutSec());
        assertEquals(4, set.etcd().leaseTtlSec());
        assertTrue(set.warnings().isEmpty(), set.warnings().toString());
        ServerConfig local = ServerConfig.parse(new String[] {"--socket=/tmp/x.sock", "--etcd_endpoint=http://h:2379"});
        assertEquals(java.util.List.of("ignoring --etcd_endpoint: the metadata backend is local (--meta=etcd uses etcd)"),
                local.warnings(), "etcd's flags without --meta=etcd do nothing, and the daemon says so");
    }

    @Test
    void spillFlagsHaveVineyardsDefaultsAndRefuseBadRates() {
        ServerConfig off = ServerConfig.parse(new String[] {"--socket=/tmp/x.sock"});
        assertFalse(off.spill().enabled());
        assertEquals(0.3, off.spill().lowerRate());
        assertEquals(0.8, off.spill().upperRate());
        ServerConfig on = ServerConfig.parse(new String[] {"--socket=/tmp/x.sock", "--spill_path=/var/tmp/s",
                "--spill_lower_rate=0.5", "--spill_upper_rate", "0.9"});
        assertEquals(java.nio.file.Path.of("/var/tmp/s"), on.spill().path());
        assertEquals(500, on.spill().lowerBytes(1000));
        assertEquals(900, on.spill().upperBytes(1000));
        assertTrue(on.warnings().isEmpty(), "the spill flags are real now: " + on.warnings());
        var e = assertThrows(IllegalArgumentException.class,
                () -> ServerConfig.parse(new String[] {"--spill_upper_rate=1.5"}));
        assertTrue(e.getMessage().contains("fraction from 0 to 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ServerConfig.parse(new String[] {"--spill_lower_rate=0.9", "--spill_upper_rate=0.5"}));
        assertTrue(e.getMessage().contains("lower <= upper"), e.getMessage());
    }

    @Test
    void streamThresholdAndExtensionFlags() {
        ServerConfig defaults = ServerConfig.parse(new String[] {"--socket=/tmp/x.sock"});
        assertEquals(80, defaults.streamThreshold(), "vineyard's default");
        assertTrue(defaults.extensions());
        ServerConfig set = ServerConfig.parse(new String[] {"--socket=/tmp/x.sock", "--stream_threshold=25", "--noextensions"});
        assertEquals(25, set.streamThreshold());
        assertFalse(set.extensions());
        for (String bad : new String[] {"0", "101", "half"}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> ServerConfig.parse(new String[] {"--socket=/tmp/x.sock", "--stream_threshold=" + bad}));
            assertTrue(e.getMessage().contains("whole percentage"), e.getMessage());
        }
    }

    @Test
    void aPoolLargerThanDevShmIsRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> io.vineyard.server.memory.SharedMemoryPool.create(1L << 50, false));
        assertTrue(e.getMessage().contains("/dev/shm"), e.getMessage());
    }

    @Test
    void safeDefaults() {
        ServerConfig c = ServerConfig.parse(new String[0]);
        assertEquals("127.0.0.1", c.rpcHost(), "RPC listens on loopback unless told otherwise");
        assertFalse(c.metricsEnabled(), "no metrics port is opened unless asked for");
        assertEquals(LogSettings.debugFromEnvironment() ? LogSettings.Level.DEBUG : LogSettings.Level.INFO, c.logging().level(),
                "info (debug with VINEYARDD_DEBUG=1)");
        assertNull(c.logging().logDir(), "stderr only");
        assertEquals("0.0.0.0", ServerConfig.parse(new String[] {"--rpc_host=0.0.0.0"}).rpcHost());
        assertEquals("127.0.0.1", ServerConfig.parse(new String[] {"--rpc_host", "localhost"}).rpcHost(),
                "a host name is resolved to its IPv4 address");
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--rpc_host=no.such.host.invalid"}));
    }

    @Test
    void metricsFlags() {
        assertEquals(0, ServerConfig.parse(new String[] {"--metrics_port=0"}).metricsPort(), "a port turns metrics on");
        assertEquals(ServerConfig.DEFAULT_METRICS_PORT, ServerConfig.parse(new String[] {"--metrics"}).metricsPort());
        assertEquals(ServerConfig.DEFAULT_METRICS_PORT, ServerConfig.parse(new String[] {"--prometheus"}).metricsPort());
        assertFalse(ServerConfig.parse(new String[] {"--metrics_port=9999", "--nometrics"}).metricsEnabled());
        assertTrue(ServerConfig.parse(new String[] {"--metrics", "--noprometheus"}).metricsEnabled(),
                "as vineyard: --metrics takes precedence over --prometheus");
        assertEquals("0.0.0.0", ServerConfig.parse(new String[] {"--metrics", "--metrics_host=0.0.0.0"}).metricsHost());
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--metrics_port=65536"}));
    }

    @Test
    void glogFlagsMapOntoLevelsAndOutputs() {
        assertEquals(LogSettings.Level.DEBUG, ServerConfig.parse(new String[] {"--v=1"}).logging().level());
        assertEquals(LogSettings.Level.TRACE, ServerConfig.parse(new String[] {"--v", "2"}).logging().level());
        assertEquals(LogSettings.Level.WARN, ServerConfig.parse(new String[] {"--v=1", "--minloglevel=1"}).logging().level(),
                "minloglevel drops verbose logging too, as in glog");
        assertEquals(LogSettings.Level.ERROR, ServerConfig.parse(new String[] {"--minloglevel=2"}).logging().level());
        assertEquals(LogSettings.Level.OFF, ServerConfig.parse(new String[] {"--minloglevel=3"}).logging().level());
        LogSettings files = ServerConfig.parse(new String[] {"--log_dir=/tmp/vlogs", "--stderrthreshold=2"}).logging();
        assertEquals(Path.of("/tmp/vlogs"), files.logDir());
        assertEquals(LogSettings.Level.ERROR, files.stderrThreshold());
        assertEquals(LogSettings.Level.TRACE, ServerConfig.parse(new String[] {"--log_dir=/tmp/vlogs"}).logging().stderrThreshold(),
                "vineyardd sets stderrthreshold=0: every line to stderr too");
        assertEquals(LogSettings.Level.TRACE, ServerConfig.parse(new String[] {"--log_dir=/tmp/vlogs", "--stderrthreshold=2",
                "--alsologtostderr"}).logging().stderrThreshold());
        assertNull(ServerConfig.parse(new String[] {"--log_dir=/tmp/vlogs", "--logtostderr"}).logging().logDir(),
                "--logtostderr: no file");
        ServerConfig quiet = ServerConfig.parse(new String[] {"--colorlogtostderr", "--vmodule=x=2"});
        assertEquals(2, quiet.warnings().size(), "accepted with a warning each: " + quiet.warnings());
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--minloglevel=4"}));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--v=-1"}));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse(new String[] {"--v=lots"}));
    }

    @Test
    void versionAndShortHelp() {
        assertThrows(ServerConfig.VersionRequested.class, () -> ServerConfig.parse(new String[] {"--version"}));
        assertThrows(ServerConfig.HelpRequested.class, () -> ServerConfig.parse(new String[] {"-h"}));
        assertTrue(Version.line().startsWith("vineyardd version 0.24.4 (vineyard-java "), Version.line());
        assertFalse(Version.IMPLEMENTATION.contains("${"), "the build filled in the version: " + Version.IMPLEMENTATION);
    }
}
