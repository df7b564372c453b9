package io.vineyard.server.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * logback's configuration in any process with the daemon's classes (found through
 * {@code META-INF/services}): stderr at info, or debug with {@code VINEYARDD_DEBUG=1}, until
 * {@link DaemonLogging#apply} applies the daemon's flags. Steps aside when
 * {@code -Dlogback.configurationFile} names a configuration of the user's.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class DefaultLogConfigurator extends ContextAwareBase implements Configurator {
    /** Instantiated by logback through the service loader. */
    public DefaultLogConfigurator() {
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (DaemonLogging.userConfigured()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        LogbackSetup.apply(context, LogSettings.defaults(), null);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
