package io.vineyard.graph;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;

/** The metadata of the Arrow arrays a fragment is made of, as vineyard's C++ builders write them. */
final class ArrayMetas {
    /** {@code type_name<vineyard::LargeStringArray>()}. */
    static final String LARGE_STRING = io.vineyard.arrow.ArrowTypes.LARGE_STRING_ARRAY;
    static final String UINT64 = "vineyard::NumericArray<uint64>";
    static final String INT64 = "vineyard::NumericArray<int64>";

    private ArrayMetas() {
    }

    /**
     * A {@code vineyard::NumericArray<T>} of {@code length} elements over {@code values}, without nulls
     * (the empty blob as {@code null_bitmap_}, as C++'s fixed-size builders leave it).
     */
    static ObjectMeta numeric(BuildContext ctx, String typename, long length, VertexMapWriter.Slot values) {
        ObjectMeta m = new ObjectMeta(typename);
        m.put("length_", length);
        // vineyard 0.24's builders name the element type (Arrow's name; the 64-bit ones are spelled alike)
        if (typename.startsWith("vineyard::NumericArray<")) {
            m.put("data_type_", typename.substring(typename.indexOf('<') + 1, typename.length() - 1));
        }
        m.put("null_count_", 0L);
        m.put("offset_", 0L);
        m.addMember("buffer_", values.member());
        m.addMember("null_bitmap_", VertexMapWriter.Slot.of(ctx, 0).member());
        m.setNbytes(values.segment().byteSize());
        return m;
    }

    /** A {@code vineyard::FixedSizeBinaryArray} of {@code length} nbr units over {@code units}. */
    static ObjectMeta nbrUnits(BuildContext ctx, long length, VertexMapWriter.Slot units) {
        ObjectMeta m = numeric(ctx, FragmentDescriptor.FIXED_SIZE_BINARY, length, units);
        m.put("byte_width_", (long) FragmentDescriptor.NBR_BYTES);
        return m;
    }
}
