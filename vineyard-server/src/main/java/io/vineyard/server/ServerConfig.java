package io.vineyard.server;

import io.vineyard.server.cluster.EtcdSettings;
import io.vineyard.server.logging.LogSettings;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * vineyardd's command-line flags, parsed the way gflags does ({@code --flag=value}, {@code --flag value},
 * {@code --flag} / {@code --noflag} for booleans, one or two leading dashes).
 *
 * @param socketPath      IPC socket path
 * @param sizeBytes       pool limit
 * @param rpc             serve TCP
 * @param rpcPort         TCP port (0 picks a free one)
 * @param meta            metadata backend ({@code local} or {@code etcd})
 * @param deployment      reported in {@code instance_status}
 * @param reserveMemory   pre-fault the pool at start
 * @param compression     advertise zstd for RPC transfers
 * @param htpasswd        htpasswd file for authentication, or empty
 * @param spinMicros      how long a connection's thread busy-waits for the next request before it
 *                        blocks (0: never), see {@link io.vineyard.common.wire.FrameSocket#spinUntilReadable}
 * @param extensions      serve (and advertise in {@code register_reply}) the requests of ours beyond
 *                        vineyard's protocol; off, they are answered exactly as vineyardd answers them
 * @param streamThreshold percent of the pool that stream chunks may use before writers wait (vineyard's
 *                        {@code --stream_threshold}, default 80)
 * @param rpcHost         IPv4 address the RPC port binds ({@code --rpc_host}, default {@code 127.0.0.1};
 *                        {@code 0.0.0.0} for every interface)
 * @param metricsHost     address of the Prometheus endpoint ({@code --metrics_host}, default {@code 127.0.0.1})
 * @param metricsPort     port of the Prometheus endpoint, 0 for a free one, {@link #METRICS_OFF} when off
 * @param logging         log level and outputs (glog's flags mapped onto ours)
 * @param etcd            the etcd backend's settings (used with {@code --meta=etcd})
 * @param crds            {@code --sync_crds} and its Kubernetes settings
 * @param nodename        the node name {@code cluster_meta} reports ({@code --nodename}; empty: the host name),
 *                        e.g. a Kubernetes node's name, which a data-aware scheduler matches against
 * @param warnings        what the daemon should log about the flags once logging is set up
 * @param spill           spilling to disk ({@code --spill_path} and its watermarks)
 * @param warmBytes       {@code --warm_memory}: the low bytes of the pool pre-faulted in the background
 *                        once the daemon listens and kept through deletes (0: none; the whole pool with
 *                        {@code --reserve_memory}), see {@link io.vineyard.server.memory.SharedMemoryPool}
 * @param dirtyDecayMs    {@code --dirty_decay_ms}: how long the pages of a blob freed by a plain delete stay
 *                        resident for the next puts before they go back to the OS (0: at the delete), see
 *                        {@link io.vineyard.server.store.BlobStore#dirtyDecay}
 * @param platformConnections {@code --platform_connections}: connections served on platform threads
 *                        that wait in {@code poll(2)} (one wake-up hop after idle), the others on virtual
 *                        threads, see {@link io.vineyard.server.transport.PlatformLane}
 * @param warmup          {@code --warmup}: pass fds over a private socket pair in the background after
 *                        start, so that no client's first fd waits for the call to be linked (see
 *                        {@code StartupWarmup})
 */
public record ServerConfig(String socketPath, long sizeBytes, boolean rpc, int rpcPort, String meta,
                           String deployment, boolean reserveMemory, boolean compression, String htpasswd,
                           int spinMicros, boolean extensions, int streamThreshold, String rpcHost,
                           String metricsHost, int metricsPort, LogSettings logging, EtcdSettings etcd,
                           CrdSettings crds, String nodename, List<String> warnings, SpillSettings spill,
                           long warmBytes, long dirtyDecayMs, int platformConnections, boolean warmup) {
    /** {@link #metricsPort} when the Prometheus endpoint is off. */
    public static final int METRICS_OFF = -1;
    /** The port of {@code --metrics} / {@code --prometheus} without {@code --metrics_port}. */
    public static final int DEFAULT_METRICS_PORT = 9601;
    /** {@code --warm_memory}'s default: room for the first large puts of a fresh daemon. */
    public static final long DEFAULT_WARM_BYTES = 256L << 20;
    /** {@code --dirty_decay_ms}'s default (jemalloc's dirty decay is 10 s too). */
    public static final long DEFAULT_DIRTY_DECAY_MS = 10_000;
    /** {@code --platform_connections}'s default: the long-lived clients of one machine. */
    public static final int DEFAULT_PLATFORM_CONNECTIONS = 32;

    /**
     * {@code --sync_crds}: publish this instance's persisted objects as LocalObject/GlobalObject resources.
     *
     * @param enabled   {@code --sync_crds}
     * @param apiUrl    {@code --k8s_api}: the API server's URL; empty: fabric8's own configuration (in-cluster
     *                  service account, else ~/.kube/config)
     * @param namespace {@code --k8s_namespace}: where the resources go; empty: $VINEYARD_NAMESPACE, else the
     *                  client's namespace
     */
    public record CrdSettings(boolean enabled, String apiUrl, String namespace) {
    }

    /**
     * The configuration a session's handlers see: this one with the session's socket and limit, and
     * without the root session's own services (RPC, metrics endpoint, spilling, CRD sync).
     */
    public ServerConfig forSession(String sessionSocket, long sessionSizeBytes) {
        return new ServerConfig(sessionSocket, sessionSizeBytes, false, rpcPort, meta, deployment, reserveMemory,
                compression, htpasswd, spinMicros, extensions, streamThreshold, rpcHost, metricsHost, METRICS_OFF,
                logging, etcd, new CrdSettings(false, crds.apiUrl(), crds.namespace()), nodename, List.of(),
                SpillSettings.OFF, warmBytes, dirtyDecayMs, platformConnections, false);
    }

    /** Whether the Prometheus endpoint is on. */
    public boolean metricsEnabled() {
        return metricsPort != METRICS_OFF;
    }

    /** Flags vineyard has that this daemon accepts and ignores for now, with the reason. */
    private static final Map<String, String> IGNORED = Map.ofEntries(
            Map.entry("etcd_cmd", "this daemon never launches etcd: start one and pass --etcd_endpoint"),
            Map.entry("etcd_data_dir", "this daemon never launches etcd: start one and pass --etcd_endpoint"),
            Map.entry("skip_launch_etcd", "this daemon never launches etcd: start one and pass --etcd_endpoint"),
            Map.entry("allocator", "this daemon has one allocator (best fit, 64-byte aligned)"),
            Map.entry("vmodule", "per-file log levels are not mapped; use --v"),
            Map.entry("colorlogtostderr", "log lines are never coloured"),
            Map.entry("max_log_size", "log files are not rotated"),
            Map.entry("logbufsecs", "log lines are written at once"),
            Map.entry("coredump", "a JVM writes no core dumps by this flag"),
            Map.entry("rdma_endpoint", "RDMA is not supported"));

    private static final List<String> BOOLEAN_FLAGS = List.of("rpc", "reserve_memory", "compression", "help", "h",
            "version", "extensions", "skip_launch_etcd", "prometheus", "metrics", "coredump", "sync_crds", "logtostderr",
            "alsologtostderr", "colorlogtostderr", "warmup");

    /** The help text, printed by {@code --help}. */
    public static String usage() {
        return """
                vineyardd (vineyard-java): the shared-memory object daemon, wire-compatible with vineyard 0.24.

                Usage: bin/vineyardd [flags]

                  --socket=PATH          IPC socket (default: $XDG_RUNTIME_DIR/vineyard/vineyard.sock, else
                                         ~/.local/vineyard/vineyard.sock); created with mode 0600
                  --size=SIZE            shared-memory pool limit, e.g. 256Mi, 4G, 1073741824
                                         (K/M/G/T/P/E = powers of 1000, Ki/Mi/Gi/... = powers of 1024;
                                         default: a quarter of what /dev/shm can hold)
                  --rpc / --norpc        serve the RPC protocol over TCP (default: on)
                  --rpc_socket_port=N    TCP port for RPC (default 9600)
                  --rpc_host=ADDR        address the RPC port listens on (default 127.0.0.1: this machine only;
                                         0.0.0.0 for every interface, which cluster mode needs)
                  --meta=local|etcd      metadata backend (default local: this machine only; etcd: a cluster
                                         sharing persisted metadata through etcd)
                  --etcd_endpoint=URLS   etcd to use with --meta=etcd (default http://127.0.0.1:2379; comma-separated)
                  --etcd_prefix=P        key prefix in etcd (default vineyard; /S0000000000000000 is appended)
                  --meta_timeout=S       seconds start-up waits for etcd before it exits with an error (default 60)
                  --etcd_lease_ttl=S     seconds after which a dead instance's keys vanish from etcd (default 10)
                  --nodename=NAME        the node name cluster_meta reports (default: the host name), e.g. a
                                         Kubernetes node's name for bin/vineyard-scheduler
                  --sync_crds            publish this instance's persisted objects as Kubernetes LocalObject /
                                         GlobalObject resources (k8s.v6d.io/v1alpha1; needs vineyard-k8s on the
                                         classpath, as in the distribution)
                  --k8s_api=URL          with --sync_crds: the API server (default: in-cluster, else ~/.kube/config)
                  --k8s_namespace=NS     with --sync_crds: the resources' namespace (default: $VINEYARD_NAMESPACE,
                                         else the client's)
                  --deployment=local     reported by instance_status
                  --reserve_memory       pre-fault the whole pool at start (about 1 s per GiB)
                  --warm_memory=SIZE     pre-fault the pool's low SIZE bytes in the background once
                                         listening, and keep them through deletes (default 256Mi,
                                         at most --size; 0: off; memory_trim returns them)
                  --dirty_decay_ms=N     keep the pages of blobs freed by a delete resident for N ms
                                         for the next puts, then return them to the OS (default
                                         10000; 0: at the delete; memory_trim returns them at once)
                  --platform_connections=N
                                         serve up to N connections on platform threads that wait in
                                         poll(2): a request after an idle spell wakes one thread, not
                                         two (default 32; 0: every connection on a virtual thread)
                  --warmup / --nowarmup  after start, pass fds over a private socket pair in the
                                         background, so that no client's first fd waits 4-12 ms
                                         for the call to be linked (default on)
                  --compression / --nocompression
                                         advertise zstd for RPC blob transfers (default: on)
                  --htpasswd=FILE        require username/password from an htpasswd file (bcrypt, {SHA} or plain)
                                         on IPC, RPC and the metrics endpoint
                  --spin_us=N            busy-wait up to N us for a connection's next request before blocking
                                         (default 50; at most one spinning thread per spare CPU; 0 = off)
                  --extensions / --noextensions
                                         serve the requests of ours beyond vineyard's protocol (put_object,
                                         get_object, release_buffers, server_stats) and advertise them in
                                         register_reply (default: on); off, the daemon answers them as
                                         vineyardd does ("Got unexpected command")
                  --stream_threshold=P   percent of the pool that stream chunks may take before a writer
                                         waits for the reader (default 80, as vineyard)
                  --metrics_port=N       serve Prometheus metrics on http://HOST:N/metrics (default: off; 0 picks
                                         a free port)
                  --metrics_host=ADDR    address of the metrics endpoint (default 127.0.0.1)
                  --spill_path=DIR       spill sealed blobs nobody holds to files in DIR when the pool fills
                                         (least recently used first); a get reloads them (default: off)
                  --spill_upper_rate=R   start spilling at this fraction of --size (default 0.8)
                  --spill_lower_rate=R   spill down to this fraction of --size (default 0.3)
                  --metrics / --prometheus
                                         vineyard's switches: serve metrics on --metrics_port (default 9601)
                logging (glog's flags, mapped onto ours):
                  --v=N                  1: debug (abnormal disconnects, refused requests), 2: trace (default 0:
                                         info; VINEYARDD_DEBUG=1 is --v=1)
                  --minloglevel=N        log only severity N and up: 0 info, 1 warning, 2 error, 3 nothing
                  --log_dir=DIR          also write the log to a file in DIR
                  --logtostderr          stderr only (no file, even with --log_dir)
                  --alsologtostderr      with --log_dir, every line to stderr too (the default)
                  --stderrthreshold=N    with --log_dir, stderr gets severity N and up only
                  --version              print the version and exit
                  -h, --help             this text
                """;
    }

    /** Parses vineyardd's argv; throws {@link IllegalArgumentException} with a message on a bad flag. */
    public static ServerConfig parse(String[] args) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "' (flags look like --size=1Gi)");
            }
            String body = a.startsWith("--") ? a.substring(2) : a.substring(1);
            String name;
            String value;
            int eq = body.indexOf('=');
            if (eq >= 0) {
                name = body.substring(0, eq);
                value = body.substring(eq + 1);
            } else if (BOOLEAN_FLAGS.contains(body)) {
                name = body;
                value = "true";
            } else if (body.startsWith("no") && BOOLEAN_FLAGS.contains(body.substring(2))) {
                name = body.substring(2);
                value = "false";
            } else {
                name = body;
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("flag --" + name + " needs a value");
                }
                value = args[++i];
            }
            flags.put(name, value);
        }
        List<String> warnings = new ArrayList<>();
        String socket = defaultSocket();
        long size = -1;
        boolean rpc = true;
        int port = 9600;
        String meta = "local";
        String deployment = "local";
        boolean reserve = false;
        long warm = DEFAULT_WARM_BYTES;
        long dirtyDecayMs = DEFAULT_DIRTY_DECAY_MS;
        int platformConnections = DEFAULT_PLATFORM_CONNECTIONS;
        boolean warmup = true;
        boolean compression = true;
        boolean extensions = true;
        int streamThreshold = 80;
        String htpasswd = "";
        int spin = 50;
        String rpcHost = "127.0.0.1";
        String metricsHost = "127.0.0.1";
        Integer metricsPort = null;
        Boolean metricsSwitch = null;
        Boolean prometheusSwitch = null;
        Integer v = null;
        Integer minLogLevel = null;
        Integer stderrThreshold = null;
        boolean logToStderr = false;
        boolean alsoLogToStderr = false;
        String logDir = null;
        String etcdEndpoint = "http://127.0.0.1:2379";
        String etcdPrefix = "vineyard";
        int metaTimeout = 60;
        int leaseTtl = 10;
        String spillPath = "";
        double spillLower = SpillSettings.OFF.lowerRate();
        double spillUpper = SpillSettings.OFF.upperRate();
        String nodename = "";
        boolean syncCrds = false;
        String k8sApi = "";
        String k8sNamespace = "";
        for (Map.Entry<String, String> f : flags.entrySet()) {
            String value = f.getValue();
            switch (f.getKey()) {
                case "help", "h" -> {
                    if (bool(f.getKey(), value)) {
                        throw new HelpRequested();
                    }
                }
                case "version" -> {
                    if (bool("version", value)) {
                        throw new VersionRequested();
                    }
                }
                case "socket" -> socket = value.isEmpty() ? defaultSocket() : value;
                case "size" -> size = value.isEmpty() ? -1 : parseSize(value);
                case "rpc" -> rpc = bool("rpc", value);
                case "rpc_socket_port" -> port = parsePort("rpc_socket_port", value);
                case "meta" -> meta = value;
                case "deployment" -> deployment = value;
                case "reserve_memory" -> reserve = bool("reserve_memory", value);
                case "warm_memory" -> warm = parseWarm(value);
                case "dirty_decay_ms" -> dirtyDecayMs = parseDecay(value);
                case "platform_connections" -> platformConnections = parseNonNegative("platform_connections", value);
                case "warmup" -> warmup = bool("warmup", value);
                case "compression" -> compression = bool("compression", value);
                case "htpasswd" -> htpasswd = value;
                case "spin_us" -> spin = parseSpin(value);
                case "extensions" -> extensions = bool("extensions", value);
                case "stream_threshold" -> streamThreshold = parsePercent("stream_threshold", value);
                case "rpc_host" -> rpcHost = ipv4("rpc_host", value);
                case "metrics_port" -> metricsPort = parsePort("metrics_port", value);
                case "metrics_host" -> metricsHost = ipv4("metrics_host", value);
                case "metrics" -> metricsSwitch = bool("metrics", value);
                case "prometheus" -> prometheusSwitch = bool("prometheus", value);
                case "v" -> v = parseInt("v", value);
                case "minloglevel" -> minLogLevel = parseInt("minloglevel", value);
                case "stderrthreshold" -> stderrThreshold = parseInt("stderrthreshold", value);
                case "logtostderr" -> logToStderr = bool("logtostderr", value);
                case "alsologtostderr" -> alsoLogToStderr = bool("alsologtostderr", value);
                case "log_dir" -> logDir = value;
                case "etcd_endpoint" -> etcdEndpoint = value;
                case "etcd_prefix" -> etcdPrefix = value;
                case "meta_timeout" -> metaTimeout = parsePositive("meta_timeout", value);
                case "etcd_lease_ttl" -> leaseTtl = parsePositive("etcd_lease_ttl", value);
                case "spill_path" -> spillPath = value;
                case "spill_lower_rate" -> spillLower = SpillSettings.parseRate("spill_lower_rate", value);
                case "spill_upper_rate" -> spillUpper = SpillSettings.parseRate("spill_upper_rate", value);
                case "nodename" -> nodename = value.trim();
                case "sync_crds" -> syncCrds = bool("sync_crds", value);
                case "k8s_api" -> k8sApi = value.trim();
                case "k8s_namespace" -> k8sNamespace = value.trim();
                default -> {
                    String why = IGNORED.get(f.getKey());
                    if (why == null) {
                        throw new IllegalArgumentException("unknown flag --" + f.getKey() + " (see --help)");
                    }
                    warnings.add("ignoring --" + f.getKey() + ": " + why);
                }
            }
        }
        if (!meta.equals("local") && !meta.equals("etcd")) {
            throw new IllegalArgumentException("--meta=" + meta + " is not supported: 'local' (the embedded"
                    + " single-machine backend) or 'etcd'" + (meta.equals("redis") ? " (redis is not implemented)" : ""));
        }
        if (meta.equals("local")) {
            for (String f : List.of("etcd_endpoint", "etcd_prefix", "meta_timeout", "etcd_lease_ttl")) {
                if (flags.containsKey(f)) {
                    warnings.add("ignoring --" + f + ": the metadata backend is local (--meta=etcd uses etcd)");
                }
            }
        }
        List<String> endpoints = java.util.Arrays.stream(etcdEndpoint.split(",")).map(String::trim)
                .filter(e -> !e.isEmpty()).map(e -> e.contains("://") ? e : "http://" + e).toList();
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("--etcd_endpoint is empty");
        }
        EtcdSettings etcd = new EtcdSettings(endpoints, etcdPrefix, metaTimeout, leaseTtl, 1500);
        if (socket.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 107) {
            throw new IllegalArgumentException("--socket path is longer than the 107 bytes a UNIX socket allows: " + socket);
        }
        if (size < 0) {
            size = defaultSize();
        }
        if (size == 0) {
            throw new IllegalArgumentException("--size must be larger than 0");
        }
        // vineyard: --metrics takes precedence over --prometheus; either turns the endpoint on
        boolean metricsOn = metricsSwitch != null ? metricsSwitch
                : prometheusSwitch != null ? prometheusSwitch : metricsPort != null;
        int metricsAt = !metricsOn ? METRICS_OFF : metricsPort != null ? metricsPort : DEFAULT_METRICS_PORT;
        LogSettings logging = LogSettings.fromGlogFlags(v, minLogLevel, logToStderr, alsoLogToStderr, logDir, stderrThreshold);
        return new ServerConfig(socket, size, rpc, port, meta, deployment, reserve, compression, htpasswd, spin, extensions,
                streamThreshold, rpcHost, metricsHost, metricsAt, logging, etcd,
                new CrdSettings(syncCrds, k8sApi, k8sNamespace), nodename, List.copyOf(warnings),
                new SpillSettings(spillPath.isEmpty() ? null : Path.of(spillPath), spillLower, spillUpper),
                reserve ? size : Math.min(warm, size), dirtyDecayMs, platformConnections, warmup);
    }

    /** Thrown by {@link #parse} for {@code --version}. */
    public static final class VersionRequested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        VersionRequested() {
            super("version requested", null, false, false);
        }
    }

    /** Thrown by {@link #parse} for {@code --help} or {@code -h}. */
    public static final class HelpRequested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        HelpRequested() {
            super("help requested", null, false, false);
        }
    }

    private static int parsePercent(String name, String v) {
        try {
            int p = Integer.parseInt(v.trim());
            if (p >= 1 && p <= 100) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("--" + name + " must be a whole percentage from 1 to 100, not '" + v + "'");
    }

    private static boolean bool(String name, String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes", "t", "y" -> true;
            case "false", "0", "no", "f", "n" -> false;
            default -> throw new IllegalArgumentException("flag --" + name + " takes true or false, got '" + v + "'");
        };
    }

    private static int parseSpin(String v) {
        try {
            int us = Integer.parseInt(v);
            if (us < 0 || us > 10_000) {
                throw new NumberFormatException();
            }
            return us;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--spin_us must be 0-10000 microseconds, got '" + v + "'");
        }
    }

    private static int parsePort(String name, String v) {
        try {
            int p = Integer.parseInt(v.trim());
            if (p < 0 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a port number 0-65535, got '" + v + "'");
        }
    }

    private static int parsePositive(String name, String v) {
        int n = parseInt(name, v);
        if (n <= 0) {
            throw new IllegalArgumentException("--" + name + " must be a positive number of seconds, got '" + v + "'");
        }
        return n;
    }

    private static int parseNonNegative(String name, String v) {
        int n = parseInt(name, v);
        if (n < 0) {
            throw new IllegalArgumentException("--" + name + " must be 0 or more, got '" + v + "'");
        }
        return n;
    }

    private static int parseInt(String name, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " takes a whole number, got '" + v + "'");
        }
    }

    /** An IPv4 address or a host name that resolves to one (the listeners bind IPv4), as a literal. */
    private static String ipv4(String name, String v) {
        try {
            for (InetAddress a : InetAddress.getAllByName(v.trim())) {
                if (a instanceof Inet4Address) {
                    return a.getHostAddress();
                }
            }
            throw new IllegalArgumentException("--" + name + "=" + v + " has no IPv4 address (the daemon listens on IPv4)");
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--" + name + "=" + v + " is not an address or a known host name", e);
        }
    }

    /**
     * Parses a size with vineyard's suffixes: K, M, G, T, P, E (powers of 1000) and Ki ... Ei (powers
     * of 1024); a trailing B is allowed.
     */
    private static long parseWarm(String text) {
        if (text.trim().equals("0")) {
            return 0;
        }
        try {
            return parseSize(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("--size", "--warm_memory"), e);
        }
    }

    private static long parseDecay(String text) {
        try {
            long ms = Long.parseLong(text.trim());
            if (ms >= 0) {
                return ms;
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--dirty_decay_ms: expected milliseconds >= 0, got '" + text + "'", e);
        }
        throw new IllegalArgumentException("--dirty_decay_ms: expected milliseconds >= 0, got '" + text + "'");
    }

    public static long parseSize(String text) {
        String s = text.trim();
        if (s.endsWith("B") || s.endsWith("b")) {
            s = s.substring(0, s.length() - 1);
        }
        long unit = 1;
        boolean binary = s.endsWith("i") || s.endsWith("I");
        String digits = binary ? s.substring(0, s.length() - 1) : s;
        if (!digits.isEmpty() && Character.isLetter(digits.charAt(digits.length() - 1))) {
            int power = "KMGTPE".indexOf(Character.toUpperCase(digits.charAt(digits.length() - 1))) + 1;
            if (power == 0) {
                throw new IllegalArgumentException("--size '" + text + "': unknown suffix");
            }
            for (int i = 0; i < power; i++) {
                unit = Math.multiplyExact(unit, binary ? 1024 : 1000);
            }
            digits = digits.substring(0, digits.length() - 1);
        } else if (binary) {
            throw new IllegalArgumentException("--size '" + text + "': unknown suffix");
        }
        try {
            long n = Long.parseLong(digits.trim());
            if (n < 0) {
                throw new IllegalArgumentException("--size must not be negative: " + text);
            }
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("--size '" + text + "' is not a size like 256Mi, 4G or 1073741824");
        }
    }

    private static long defaultSize() {
        try {
            return Math.max(64L << 20, Files.getFileStore(Path.of("/dev/shm")).getUsableSpace() / 4) & ~4095L;
        } catch (Exception e) {
            return 1L << 30;
        }
    }

    private static String defaultSocket() {
        return io.vineyard.common.DefaultSocket.daemonDefault();
    }
}
