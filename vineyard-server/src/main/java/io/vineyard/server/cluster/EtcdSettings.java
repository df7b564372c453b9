package io.vineyard.server.cluster;

import java.util.List;

/**
 * The etcd backend's flags.
 *
 * @param endpoints       {@code --etcd_endpoint}, comma-separated {@code http://host:port} URLs
 * @param prefix          {@code --etcd_prefix}; {@code /S<session>} is appended as vineyard does
 * @param metaTimeoutSec  {@code --meta_timeout}: how long start-up waits for etcd before it gives up
 * @param leaseTtlSec     {@code --etcd_lease_ttl}: the instance's lease; its keys vanish this long after it dies
 * @param opTimeoutMs     how long one etcd request may take before the request that needed it fails
 */
public record EtcdSettings(List<String> endpoints, String prefix, int metaTimeoutSec, int leaseTtlSec, long opTimeoutMs) {
    public static final String ROOT_SESSION = "S0000000000000000";

    /** The key prefix of the root session: {@code <etcd_prefix>/S0000000000000000}. */
    public String sessionPrefix() {
        String p = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        return p + "/" + ROOT_SESSION;
    }
}
