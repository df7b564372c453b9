package io.vineyard.client.types;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.ValueLayout;

/**
 * Element types of tensors and arrays, with their vineyard spellings: the C++ name in typenames
 * ({@code vineyard::Tensor<int64>}: C++'s {@code type_name<int64_t>()}, see {@code src/common/util/typename.h}), the AnyType name in {@code value_type_} ({@code int64}) and numpy's
 * {@code dtype.str} in {@code value_type_meta_} (read by Python clients).
 */
public enum DType {
    /** 32-bit signed. */
    INT32("int", "int32", "<i4", 4),
    /** 64-bit signed. */
    INT64("int64", "int64", "<i8", 8),
    /** 32-bit unsigned (read as int bits). */
    UINT32("uint", "uint32", "<u4", 4),
    /** 64-bit unsigned (read as long bits). */
    UINT64("uint64", "uint64", "<u8", 8),
    /** 32-bit IEEE float. */
    FLOAT("float", "float", "<f4", 4),
    /** 64-bit IEEE float. */
    DOUBLE("double", "double", "<f8", 8);

    private final String cppName;
    private final String anyTypeName;
    private final String numpyStr;
    private final int byteSize;

    DType(String cppName, String anyTypeName, String numpyStr, int byteSize) {
        this.cppName = cppName;
        this.anyTypeName = anyTypeName;
        this.numpyStr = numpyStr;
        this.byteSize = byteSize;
    }

    /** The C++ spelling used in typenames. */
    public String cppName() {
        return cppName;
    }

    /** vineyard's AnyType name ({@code value_type_}). */
    public String anyTypeName() {
        return anyTypeName;
    }

    /** numpy's {@code dtype.str} ({@code value_type_meta_}). */
    public String numpyStr() {
        return numpyStr;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The little-endian, unaligned layout of one element. */
    public ValueLayout layout() {
        return switch (this) {
            case INT32, UINT32 -> ValueLayout.JAVA_INT_UNALIGNED;
            case INT64, UINT64 -> ValueLayout.JAVA_LONG_UNALIGNED;
            case FLOAT -> ValueLayout.JAVA_FLOAT_UNALIGNED;
            case DOUBLE -> ValueLayout.JAVA_DOUBLE_UNALIGNED;
        };
    }

    /**
     * The element type for any spelling vineyard's clients write: C++ ({@code int64_t}, {@code long},
     * {@code unsigned int}...), AnyType ({@code int64}), numpy ({@code float64}, {@code <f8}).
     *
     * @return null when the spelling is unknown
     */
    public static DType parse(String name) {
        if (name == null) {
            return null;
        }
        return switch (name.trim()) {
            case "int32_t", "int32", "int", "i32", "<i4" -> INT32;
            case "int64_t", "int64", "long", "long int", "long long", "long long int", "i64", "<i8" -> INT64;
            case "uint32_t", "uint32", "unsigned int", "uint", "u32", "<u4" -> UINT32;
            case "uint64_t", "uint64", "unsigned long", "unsigned long int", "unsigned long long", "u64", "<u8" -> UINT64;
            case "float", "float32", "<f4" -> FLOAT;
            case "double", "float64", "<f8" -> DOUBLE;
            default -> null;
        };
    }

    /** The element type of a typename's template argument, e.g. {@code vineyard::Tensor<double>}. */
    static DType ofTypename(String typename) {
        int lt = typename == null ? -1 : typename.indexOf('<');
        int gt = typename == null ? -1 : typename.lastIndexOf('>');
        return lt < 0 || gt < lt ? null : parse(typename.substring(lt + 1, gt));
    }

    static DType require(DType t, String what) {
        if (t == null) {
            throw new VineyardException(Status.TYPE_ERROR, what + ": unsupported element type");
        }
        return t;
    }
}
