package io.vineyard.client.types;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

/**
 * A single value, vineyard's {@code vineyard::Scalar<T>} ({@code value_}, {@code type_}). Putting a boxed
 * Java number, a {@code Boolean} or a {@code String} stores a scalar too.
 *
 * @param value a Long, Integer, Double, Float, Boolean or String
 * @param type  vineyard's AnyType name: int64, int32, double, float, bool, string
 */
public record Scalar(Object value, String type) {
    /** A scalar of a boxed Java value, with its vineyard type name. */
    public static Scalar of(Object value) {
        String type = switch (value) {
            case Long l -> "int64";
            case Integer i -> "int32";
            case Double d -> "double";
            case Float f -> "float";
            case Boolean b -> "bool";
            case String s -> "string";
            default -> throw new VineyardException(Status.TYPE_ERROR, "not a scalar: " + value.getClass().getName());
        };
        return new Scalar(value, type);
    }

    /** The C++ {@code type_name} spelling in the typename ({@code vineyard::Scalar<int64>}, {@code Scalar<int>}). */
    public String cppName() {
        return switch (type) {
            case "int64" -> "int64";
            case "int32" -> "int";
            case "bool" -> "bool";
            case "string" -> "std::string";
            default -> type;
        };
    }

    /** The value as {@code javaType} (Long, Integer, Double, Float, Boolean, String). */
    public <T> T as(Class<T> javaType) {
        Object v = value;
        Object out;
        if (javaType == Long.class && v instanceof Number n) {
            out = n.longValue();
        } else if (javaType == Integer.class && v instanceof Number n) {
            out = n.intValue();
        } else if (javaType == Double.class && v instanceof Number n) {
            out = n.doubleValue();
        } else if (javaType == Float.class && v instanceof Number n) {
            out = n.floatValue();
        } else if (javaType == String.class) {
            out = String.valueOf(v);
        } else {
            out = v;
        }
        if (!javaType.isInstance(out)) {
            throw new VineyardException(Status.TYPE_ERROR, "scalar " + type + " " + v + " is not a " + javaType.getSimpleName());
        }
        return javaType.cast(out);
    }
}
