package io.vineyard.graph;

import io.vineyard.client.registry.VineyardType;

import java.util.List;

/**
 * A {@link VineyardType} that only builds: the loader's drafts (a vertex map, a fragment to write), whose
 * results are read back through other types. It matches no typename.
 *
 * @param <D> the draft type
 */
abstract class BuildOnlyType<D> implements VineyardType<D> {
    private final Class<D> type;

    BuildOnlyType(Class<D> type) {
        this.type = type;
    }

    @Override
    public final Class<D> javaType() {
        return type;
    }

    @Override
    public final List<String> typenamePrefixes() {
        return List.of();
    }
}
