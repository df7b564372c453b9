package io.vineyard.client;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.registry.VineyardType;

import java.util.List;
import java.util.function.BiFunction;

/** A test type that only builds, with the builder given as a function (failure and stall injection). */
public record BuilderOnlyType<T>(Class<T> javaType, String typename, BiFunction<BuildContext, T, ObjectMeta> builder)
        implements VineyardType<T> {
    @Override
    public List<String> typenamePrefixes() {
        return List.of(typename);
    }

    @Override
    public ObjectMeta build(BuildContext ctx, T value) {
        return builder.apply(ctx, value);
    }
}
