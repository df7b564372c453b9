package io.vineyard.client.registry;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.VineyardException;

import java.util.List;

/**
 * How one Java type is stored in vineyard and read back: the builder ({@link #build}) and the resolver
 * ({@link #resolve}) of a Java class and a family of vineyard typenames.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader}: list the class in
 * {@code META-INF/services/io.vineyard.client.registry.VineyardType}. A resolver serves every typename
 * that starts with one of its {@link #typenamePrefixes()}; the longest matching prefix wins, as in
 * vineyard's own registries ({@code vineyard::Tensor} serves {@code vineyard::Tensor<double>}).
 *
 * @param <T> the Java type
 */
public interface VineyardType<T> {
    /** The Java class this type builds and resolves to (values of subclasses are built too). */
    Class<T> javaType();

    /** Typename prefixes this type resolves; empty when it only builds. */
    List<String> typenamePrefixes();

    /**
     * Describes {@code value} as metadata, writing its bytes into blobs created with
     * {@link BuildContext#createBlob}. The returned tree is created in one request by the client.
     */
    default ObjectMeta build(BuildContext ctx, T value) {
        throw new VineyardException.NotImplemented("no builder for " + javaType().getName());
    }

    /**
     * Whether a get that names no Java type may pick this resolver. False for a second view of a typename
     * that another type reads by default (an Arrow table of a {@code vineyard::DataFrame}): it is used
     * only when its Java type is asked for.
     */
    default boolean resolvesUntypedGets() {
        return true;
    }

    /** Reads an object whose metadata is {@code meta}; blobs come from {@link ResolveContext#blob}. */
    default T resolve(ResolveContext ctx, ObjectMeta meta) {
        throw new VineyardException.NotImplemented("no resolver for " + meta.what());
    }
}
