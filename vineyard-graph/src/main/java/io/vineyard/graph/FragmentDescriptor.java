package io.vineyard.graph;

/**
 * The metadata shape and the shared-memory layouts of vineyard's property graph, described once: the
 * typenames, keys and value encodings of {@code vineyard::ArrowFragment<OID,VID,VM,false>}
 * ({@code modules/graph/fragment/arrow_fragment.vineyard-mod}, keys by the codegen rules of
 * {@code python/vineyard/core/codegen/cpp.py}), {@code vineyard::ArrowVertexMap<OID,VID>}
 * ({@code arrow_vertex_map_impl.h}) and {@code vineyard::ArrowFragmentGroup} ({@code arrow_fragment_group.cc}).
 *
 * <pre>
 *  ArrowFragment&lt;int64,uint64,vineyard::ArrowVertexMap&lt;int64,uint64&gt;,false&gt;
 *    fid_ fnum_ directed_ local_vertex_map_(false) compact_edges_(false) is_multigraph_
 *    vertex_label_num_ edge_label_num_ oid_type ("int64" | "std::string") vid_type ("uint64")
 *    ivnums_ ovnums_ tvnums_            vineyard::Array&lt;uint64&gt; (one count per vertex label)
 *    __vertex_tables_-size, __vertex_tables_-&lt;v&gt;      vineyard::Table (properties, id column removed)
 *    __ovgid_lists_-&lt;v&gt;                               vineyard::NumericArray&lt;uint64&gt; (gids of outer vertices, ascending)
 *    __ovg2l_maps_-&lt;v&gt;                                vineyard::Hashmap&lt;uint64,uint64,...&gt; gid -&gt; local vid
 *    __edge_tables_-&lt;e&gt;                               vineyard::Table (properties, src/dst removed; row = eid)
 *    __oe_lists_-&lt;v&gt;-&lt;e&gt;, __ie_lists_-&lt;v&gt;-&lt;e&gt;         vineyard::FixedSizeBinaryArray, byte_width_ 16 (nbr units)
 *    __oe_offsets_lists_-&lt;v&gt;-&lt;e&gt;, __ie_offsets_...    vineyard::NumericArray&lt;int64&gt;, tvnums[v] + 1 offsets
 *    __compact_*_lists_-size, __*_boffsets_lists_-size   0 (non-compact layout)
 *    (undirected: __ie_lists_-size = __ie_offsets_lists_-size = 0, readers use the oe lists)
 *    vm_ptr_ (the vertex map), schema_json_ (PropertyGraphSchema::ToJSON, as a JSON string)
 *
 *  nbr unit (property_graph_utils::NbrUnit&lt;uint64,uint64&gt;), 16 bytes, little-endian:
 *  0                8                16
 *  +----------------+----------------+
 *  | vid (local)    | eid            |
 *  +----------------+----------------+
 *  Each vertex's run (offsets[o] .. offsets[o+1]) is sorted by vid.
 *
 *  vid (IdParser&lt;uint64&gt;): | fid (num_to_bitwidth(fnum)) | label (7 bits) | offset (the rest) |
 *  a local vid has fid 0; inner vertices of a label have offsets 0..ivnum-1, outer ones ivnum..tvnum-1.
 *
 *  ArrowVertexMap&lt;int64,uint64&gt;   fnum label_num, oid_arrays_&lt;f&gt;_&lt;l&gt; (NumericArray&lt;int64&gt; or LargeStringArray),
 *                                   o2g_&lt;f&gt;_&lt;l&gt; (Hashmap&lt;int64,uint64,wy::hash&lt;int64&gt;,std::equal_to&lt;int64&gt;&gt;; for
 *                                   string ids Hashmap&lt;std::string_view,uint64,...&gt; whose keys are views into
 *                                   the oid array's buffer_data_, its data_buffer_mapped_: StringViewHashmap)
 *  ArrowFragmentGroup (global)     total_frag_num vertex_label_num edge_label_num fid_&lt;i&gt; frag_instance_id_&lt;i&gt;
 *                                   frag_object_id_&lt;i&gt; (member)
 * </pre>
 */
final class FragmentDescriptor {
    private FragmentDescriptor() {
    }

    /** Bytes of one nbr unit. */
    static final int NBR_BYTES = 16;
    /** Offset of the neighbour's vid in a nbr unit. */
    static final int NBR_VID = 0;
    /** Offset of the edge id in a nbr unit. */
    static final int NBR_EID = 8;
    /** {@code MAX_VERTEX_LABEL_NUM} of property_graph_types.h. */
    static final int MAX_VERTEX_LABELS = 128;

    static final String VID_TYPE = "uint64";
    static final String INT_OID = "int64";
    static final String STRING_OID = "std::string";
    /** InternalType&lt;std::string&gt; as type_name spells it in the vertex map's typename. */
    static final String STRING_VIEW = "std::basic_string_view<char,std::char_traits<char>>";

    static final String FRAGMENT_PREFIX = "vineyard::ArrowFragment<";
    static final String VERTEX_MAP_PREFIX = "vineyard::ArrowVertexMap<";
    static final String GROUP = "vineyard::ArrowFragmentGroup";
    static final String FIXED_SIZE_BINARY = "vineyard::FixedSizeBinaryArray";

    /** {@code vineyard::ArrowVertexMap<int64,uint64>} or its string-id form. */
    static String vertexMapTypename(boolean stringIds) {
        return VERTEX_MAP_PREFIX + (stringIds ? STRING_VIEW : INT_OID) + "," + VID_TYPE + ">";
    }

    /** {@code vineyard::ArrowFragment<int64,uint64,vineyard::ArrowVertexMap<int64,uint64>,false>} (or strings). */
    static String fragmentTypename(boolean stringIds) {
        return FRAGMENT_PREFIX + (stringIds ? STRING_OID : INT_OID) + "," + VID_TYPE + ","
                + vertexMapTypename(stringIds) + ",false>";
    }

    /** A list member's key, {@code __<field>-<i>}. */
    static String listKey(String field, int i) {
        return "__" + field + "-" + i;
    }

    /** A list's size key, {@code __<field>-size}. */
    static String sizeKey(String field) {
        return "__" + field + "-size";
    }

    /** A list-of-lists member's key, {@code __<field>-<i>-<j>}. */
    static String listKey(String field, int i, int j) {
        return "__" + field + "-" + i + "-" + j;
    }

    /** An inner list's size key, {@code __<field>-<i>-size}. */
    static String sizeKey(String field, int i) {
        return "__" + field + "-" + i + "-size";
    }

    /** {@code oid_arrays_<fid>_<label>} / {@code o2g_<fid>_<label>} of the vertex map. */
    static String vertexMapKey(String prefix, int fid, int label) {
        return prefix + fid + "_" + label;
    }

    /** {@code num_to_bitwidth} of property_graph_types.h. */
    static int bitWidth(int num) {
        if (num <= 2) {
            return 1;
        }
        int max = num - 1;
        int width = 0;
        while (max != 0) {
            width++;
            max >>= 1;
        }
        return width;
    }
}
