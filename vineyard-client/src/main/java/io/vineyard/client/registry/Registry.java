package io.vineyard.client.registry;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The builders and resolvers a client uses: every {@link VineyardType} found by {@link ServiceLoader}
 * (the SDK's built-in types, vineyard-arrow's, and user types listed in
 * {@code META-INF/services/io.vineyard.client.registry.VineyardType}), plus any {@link #register}ed.
 * Thread-safe.
 */
public final class Registry {
    private static volatile Registry global;

    /** Distinct (typename, wanted class) resolutions kept; past it the cache starts again. */
    private static final int MAX_RESOLVED = 4096;

    private final List<VineyardType<?>> types = new CopyOnWriteArrayList<>();
    /**
     * {@link #resolverFor} by (typename, wanted class): every got object and each of its members ask, and
     * the answer only changes when a type is registered, which replaces the map.
     */
    private volatile ConcurrentHashMap<Query, VineyardType<?>> resolved = new ConcurrentHashMap<>();

    private record Query(String typename, Class<?> wanted) {
    }

    /** An empty registry. */
    public Registry() {
    }

    /** The process-wide registry, loaded once from the context class loader's service entries. */
    public static Registry global() {
        Registry r = global;
        if (r == null) {
            synchronized (Registry.class) {
                r = global;
                if (r == null) {
                    r = load(Thread.currentThread().getContextClassLoader());
                    global = r;
                }
            }
        }
        return r;
    }

    /** A registry of every {@link VineyardType} service entry visible to {@code loader}. */
    public static Registry load(ClassLoader loader) {
        Registry r = new Registry();
        for (VineyardType<?> t : ServiceLoader.load(VineyardType.class, loader)) {
            r.register(t);
        }
        return r;
    }

    /** Adds a type; a later registration wins over an earlier one with the same class or prefix. */
    public Registry register(VineyardType<?> type) {
        types.add(0, type);
        resolved = new ConcurrentHashMap<>(); // after the add: a lookup that sees the new map sees the type
        return this;
    }

    /** Every registered type, latest first. */
    public List<VineyardType<?>> types() {
        return List.copyOf(types);
    }

    /**
     * The builder for {@code valueClass}: a type for the class itself, else for its nearest superclass,
     * else for an interface it implements.
     *
     * @throws VineyardException (TYPE_ERROR) when none fits
     */
    @SuppressWarnings("unchecked")
    public <T> VineyardType<T> builderFor(Class<?> valueClass) {
        for (Class<?> c = valueClass; c != null; c = c.getSuperclass()) {
            for (VineyardType<?> t : types) {
                if (t.javaType() == c && builds(t)) {
                    return (VineyardType<T>) t;
                }
            }
        }
        for (VineyardType<?> t : types) {
            if (t.javaType() != null && t.javaType().isAssignableFrom(valueClass) && builds(t)) {
                return (VineyardType<T>) t;
            }
        }
        throw new VineyardException(Status.TYPE_ERROR, "put: no builder for " + valueClass.getName()
                + " (register a VineyardType for it)");
    }

    private static boolean builds(VineyardType<?> t) {
        try {
            return t.getClass().getMethod("build", BuildContext.class, Object.class).getDeclaringClass() != VineyardType.class;
        } catch (NoSuchMethodException e) {
            return true;
        }
    }

    /**
     * The resolver for {@code typename} whose Java type fits {@code wanted}: among the types with a prefix
     * of the typename, the longest prefix wins.
     *
     * @throws VineyardException (TYPE_ERROR) when none fits
     */
    @SuppressWarnings("unchecked")
    public <T> VineyardType<T> resolverFor(String typename, Class<?> wanted) {
        ConcurrentHashMap<Query, VineyardType<?>> cache = resolved; // before the types are read
        Query q = typename == null ? null : new Query(typename, wanted);
        VineyardType<?> best = q == null ? null : cache.get(q);
        if (best != null) {
            return (VineyardType<T>) best;
        }
        int bestLength = -1;
        for (VineyardType<?> t : types) {
            for (String prefix : t.typenamePrefixes()) {
                if (typename != null && typename.startsWith(prefix) && prefix.length() > bestLength && fits(t, wanted)) {
                    best = t;
                    bestLength = prefix.length();
                }
            }
        }
        if (best == null) {
            List<String> seen = new ArrayList<>();
            for (VineyardType<?> t : types) {
                for (String prefix : t.typenamePrefixes()) {
                    if (typename != null && typename.startsWith(prefix)) {
                        seen.add(t.javaType() == null ? "?" : t.javaType().getSimpleName());
                    }
                }
            }
            throw new VineyardException(Status.TYPE_ERROR, "no resolver reads a " + typename
                    + (wanted == null ? "" : " as " + wanted.getSimpleName())
                    + (seen.isEmpty() ? "" : " (it can be read as " + String.join(", ", seen) + ")"));
        }
        if (q != null) {
            if (cache.size() >= MAX_RESOLVED) {
                cache.clear();
            }
            cache.put(q, best);
        }
        return (VineyardType<T>) best;
    }

    private static boolean fits(VineyardType<?> t, Class<?> wanted) {
        return wanted == null || wanted == Object.class ? t.resolvesUntypedGets()
                : t.javaType() != null && wanted.isAssignableFrom(t.javaType());
    }
}
