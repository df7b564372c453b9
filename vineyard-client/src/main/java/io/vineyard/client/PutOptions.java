package io.vineyard.client;

import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.List;

/**
 * How {@link Client#put(Object, PutOptions)} stores a value: under which name, whether persistent, and
 * the extra inputs its builder may ask for ({@code BuildContext.option(type)}). Immutable; each
 * {@code with*} returns a copy.
 *
 * <pre>{@code
 * ObjectId named = client.put(Tensor.of(new long[] {1, 2}), PutOptions.named("pair"));  // = putNamed(value, "pair")
 * ObjectId kept = client.put(Tensor.of(new long[] {3, 4}), PutOptions.persistent());   // persistent, unnamed
 * }</pre>
 */
public final class PutOptions {
    private static final PutOptions NONE = new PutOptions(null, false, List.of());

    private final String name;
    private final boolean persist;
    private final List<Object> builderInputs;

    private PutOptions(String name, boolean persist, List<Object> builderInputs) {
        this.name = name;
        this.persist = persist;
        this.builderInputs = builderInputs;
    }

    /** A transient, unnamed object, no builder inputs. */
    public static PutOptions none() {
        return NONE;
    }

    /** A persistent object named {@code name} (a name implies persist). */
    public static PutOptions named(String name) {
        return NONE.withName(name);
    }

    /** A persistent, unnamed object. */
    public static PutOptions persistent() {
        return NONE.withPersist(true);
    }

    /**
     * The same options with the name {@code name} (and persistent).
     *
     * @throws VineyardException.Invalid when the name is null or empty
     */
    public PutOptions withName(String name) {
        if (name == null || name.isEmpty()) {
            throw new VineyardException.Invalid("put: the name must be a non-empty string");
        }
        return new PutOptions(name, true, builderInputs);
    }

    /** The same options, persistent or not (a named object is always persistent). */
    public PutOptions withPersist(boolean persist) {
        if (!persist && name != null) {
            throw new VineyardException.Invalid("put: a named object is persistent (name '" + name + "')");
        }
        return new PutOptions(name, persist, builderInputs);
    }

    /**
     * The same options plus an input for the value's builder, which finds it by type. A {@code String}
     * is refused: a name is given with {@link #withName}, never as an input.
     *
     * @throws VineyardException.Invalid when {@code input} is null or a String
     */
    public PutOptions withBuilderInput(Object input) {
        List<Object> inputs = new ArrayList<>(builderInputs);
        inputs.add(checkInput("put", input));
        return new PutOptions(name, persist, List.copyOf(inputs));
    }

    /** The name, or null for none. */
    public String name() {
        return name;
    }

    /** True when the object is made persistent (always with a name). */
    public boolean persist() {
        return persist;
    }

    /** The builder inputs, in the order given. */
    public List<Object> builderInputs() {
        return builderInputs;
    }

    /** The first builder input that is a {@code type}, or null. */
    <O> O builderInput(Class<O> type) {
        return firstOfType(builderInputs, type);
    }

    static <O> O firstOfType(List<?> inputs, Class<O> type) {
        for (Object o : inputs) {
            if (type.isInstance(o)) {
                return type.cast(o);
            }
        }
        return null;
    }

    /** Refuses null and String inputs: a string is a name or nothing, never a silent option. */
    static Object checkInput(String operation, Object input) {
        if (input == null) {
            throw new VineyardException.Invalid(operation + ": an input for the type's builder or resolver is null");
        }
        if (input instanceof CharSequence s) {
            throw new VineyardException.Invalid(operation + ": '" + s + "' is a String, which is never an input for"
                    + " a builder or resolver (a name goes to putNamed / PutOptions.named, or get(name, type))");
        }
        return input;
    }

    @Override
    public String toString() {
        return "PutOptions[name=" + name + ", persist=" + persist + ", builderInputs=" + builderInputs + "]";
    }
}
