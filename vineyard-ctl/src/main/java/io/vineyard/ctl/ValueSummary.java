package io.vineyard.ctl;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.types.DType;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Scalar;
import io.vineyard.client.types.Sequence;
import io.vineyard.client.types.Tensor;
import io.vineyard.client.types.Tuple;
import io.vineyard.common.Json;

/**
 * What {@code get object} says about a value the Java SDK resolved: dtype, shape and the first
 * {@value #HEAD} elements of a tensor (in memory order; uint64 as unsigned), a scalar's value, a frame's
 * columns and rows, a sequence's size; other types by their {@code toString()}.
 */
final class ValueSummary {
    /** Elements of a tensor shown. */
    static final int HEAD = 8;

    private ValueSummary() {
    }

    static ObjectNode of(Object value) {
        ObjectNode o = Json.object();
        o.put("java_type", value.getClass().getSimpleName());
        switch (value) {
            case Tensor t -> {
                o.put("dtype", t.dtype().anyTypeName());
                ArrayNode shape = o.putArray("shape");
                for (long d : t.shape()) {
                    shape.add(d);
                }
                o.put("order", t.order().name());
                ArrayNode head = o.putArray("head");
                boolean floating = t.dtype() == DType.FLOAT || t.dtype() == DType.DOUBLE;
                for (long i = 0; i < Math.min(HEAD, t.elementCount()); i++) {
                    if (floating) {
                        head.add(t.getDouble(i));
                    } else if (t.dtype() == DType.UINT64) {
                        head.add(new java.math.BigInteger(Long.toUnsignedString(t.getLong(i))));
                    } else {
                        head.add(t.getLong(i));
                    }
                }
            }
            case Scalar s -> o.put("value", String.valueOf(s.value()));
            case DataFrame f -> {
                f.columnNames().forEach(o.putArray("columns")::add);
                o.put("rows", f.rowCount());
            }
            case Sequence s -> o.put("size", s.elements().size());
            case Tuple t -> o.put("size", t.elements().size());
            case Number n -> o.put("value", n.toString());
            case String s -> o.put("value", s);
            case Boolean b -> o.put("value", b);
            default -> o.put("summary", value.toString());
        }
        return o;
    }
}
