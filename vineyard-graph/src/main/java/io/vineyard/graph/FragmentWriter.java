package io.vineyard.graph;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.types.Array;
import io.vineyard.client.types.DType;
import io.vineyard.client.types.Hashmap;
import io.vineyard.client.types.HashmapBuilder;
import io.vineyard.common.Json;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Writes one fragment of a {@link GraphPlan} as {@code vineyard::ArrowFragment<OID,uint64,...,false>}
 * ({@link FragmentDescriptor}), as {@code BasicArrowFragmentBuilder} lays it out: inner vertices in vertex
 * map order, outer vertices (the other end of a local edge) after them by ascending gid, one CSR per
 * (vertex label, edge label) with every run sorted by neighbour vid.
 *
 * <p>The CSR is built in the pool: degrees give the offsets, written into the offsets blob; a counting sort
 * of the local edges by row, bucketed so that it stays in the cache, uses the nbr blob as its only scratch
 * space ({@link CsrFill}). The edge data is never copied anywhere else.
 */
public final class FragmentWriter {

    private FragmentWriter() {
    }

    /** The builder input: fragment {@code fid} of a planned graph whose vertex map is (being) written. */
    record Draft(GraphPlan plan, int fid, CompletableFuture<ObjectId> vertexMap) {
    }

    /** Builds {@link Draft}s (reading is {@link GraphTypes.FragmentType}'s). */
    public static final class DraftType extends BuildOnlyType<Draft> {
        /** Service constructor. */
        public DraftType() {
            super(Draft.class);
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Draft d) {
            try (BufferAllocator allocator = new RootAllocator()) {
                long t0 = System.nanoTime();
                Build b = new FragmentWriter.Build(ctx, d.plan(), d.fid(), allocator);
                GraphLoader.trace("fragment " + d.fid() + " local edges and outer vertices", t0);
                return b.write(d.vertexMap());
            }
        }
    }

    /** One fragment's build: local edges, outer vertices, CSRs. */
    private static final class Build {
        final BuildContext ctx;
        final GraphPlan plan;
        final int fid;
        final BufferAllocator allocator;
        final VidParser parser;
        final int vnum;
        final int enum_;
        final int[] ivnums;
        final long[][] ovgids;
        final int[] tvnums;
        /** Per edge label: rows of the input table stored here (eid = index). */
        final int[][] localRows;
        final int[][] srcOff;
        final int[][] dstOff;
        /** The CSR writes, run once every blob of the fragment is created. */
        final List<CsrFill> fills = new ArrayList<>();
        long nbytes;
        boolean multigraph;

        Build(BuildContext ctx, GraphPlan plan, int fid, BufferAllocator allocator) {
            this.ctx = ctx;
            this.plan = plan;
            this.fid = fid;
            this.allocator = allocator;
            this.parser = plan.parser;
            this.vnum = plan.vertexLabelNum();
            this.enum_ = plan.edgeLabelNum();
            this.ivnums = new int[vnum];
            this.tvnums = new int[vnum];
            this.ovgids = new long[vnum][];
            this.localRows = new int[enum_][];
            this.srcOff = new int[enum_][];
            this.dstOff = new int[enum_][];
            for (GraphPlan.VertexLabel v : plan.vertices) {
                ivnums[v.id] = v.innerRows[fid].length;
            }
            selectEdges();
            localEnds();
            for (int l = 0; l < vnum; l++) {
                tvnums[l] = ivnums[l] + ovgids[l].length;
            }
        }

        private void selectEdges() {
            for (GraphPlan.EdgeLabel e : plan.edges) {
                localRows[e.id()] = e.rowsOf()[fid];
            }
        }

        /**
         * The local offsets of both ends of every local edge, and the outer vertices of each label:
         * distinct gids in ascending (unsigned) order, found by marking each outer end's dense number
         * (fragment by fragment, then offset). One pass over the ends writes an inner end's offset, or the
         * complement of an outer end's dense number, and marks the outer ones; the marks then become ranks,
         * and a pass over the written ends turns each complement into {@code ivnum + rank}.
         */
        private void localEnds() {
            int[][] fidBase = new int[vnum][];
            int[][] marks = new int[vnum][];
            for (GraphPlan.VertexLabel v : plan.vertices) {
                int[] base = new int[plan.fnum + 1];
                for (int f = 0; f < plan.fnum; f++) {
                    base[f + 1] = base[f] + v.innerRows[f].length;
                }
                fidBase[v.id] = base;
                marks[v.id] = new int[plan.fnum == 1 ? 0 : base[plan.fnum]];
            }
            for (GraphPlan.EdgeLabel e : plan.edges) {
                int[] rows = localRows[e.id()];
                srcOff[e.id()] = encodeEnds(e.srcGid(), rows, fidBase[e.srcLabel()], marks[e.srcLabel()]);
                dstOff[e.id()] = encodeEnds(e.dstGid(), rows, fidBase[e.dstLabel()], marks[e.dstLabel()]);
            }
            int[][] rank = new int[vnum][];
            for (int l = 0; l < vnum; l++) {
                int[] mark = marks[l];
                int[] base = fidBase[l];
                int count = 0;
                for (int m : mark) {
                    count += m;
                }
                long[] g = new long[count];
                int k = 0;
                for (int f = 0; f < plan.fnum && k < count; f++) {
                    for (int i = base[f]; i < base[f + 1]; i++) {
                        if (mark[i] != 0) {
                            g[k] = parser.gid(f, l, i - base[f]);
                            mark[i] = k++;   // the mark becomes the rank
                        }
                    }
                }
                ovgids[l] = g;
                rank[l] = mark;
            }
            if (plan.fnum > 1) {
                for (GraphPlan.EdgeLabel e : plan.edges) {
                    resolveOuter(srcOff[e.id()], ivnums[e.srcLabel()], rank[e.srcLabel()]);
                    resolveOuter(dstOff[e.id()], ivnums[e.dstLabel()], rank[e.dstLabel()]);
                }
            }
        }

        /** The ends {@code gids[rows[k]]}: an inner one as its offset, an outer one as ~(dense number), marked. */
        private int[] encodeEnds(long[] gids, int[] rows, int[] base, int[] mark) {
            int[] out = new int[rows.length];
            int fidShift = parser.fidOffset();
            long offsetMask = parser.offsetMask();
            for (int k = 0; k < rows.length; k++) {
                long g = gids[rows[k]];
                int f = (int) (g >>> fidShift);
                int offset = (int) (g & offsetMask);
                if (f == fid) {
                    out[k] = offset;
                } else {
                    int dense = base[f] + offset;
                    mark[dense] = 1;
                    out[k] = ~dense;
                }
            }
            return out;
        }

        private static void resolveOuter(int[] ends, int ivnum, int[] rank) {
            for (int k = 0; k < ends.length; k++) {
                int x = ends[k];
                if (x < 0) {
                    ends[k] = ivnum + rank[~x];
                }
            }
        }

        ObjectMeta write(CompletableFuture<ObjectId> vertexMap) {
            ObjectMeta m = new ObjectMeta(FragmentDescriptor.fragmentTypename(plan.stringIds));
            m.put("fid_", (long) fid);
            m.put("fnum_", (long) plan.fnum);
            m.put("directed_", plan.directed);
            m.put("local_vertex_map_", false);
            m.put("compact_edges_", false);
            m.put("vertex_label_num_", (long) vnum);
            m.put("edge_label_num_", (long) enum_);
            m.put("oid_type", plan.stringIds ? FragmentDescriptor.STRING_OID : FragmentDescriptor.INT_OID);
            m.put("vid_type", FragmentDescriptor.VID_TYPE);
            long[] iv = new long[vnum];
            long[] ov = new long[vnum];
            long[] tv = new long[vnum];
            for (int l = 0; l < vnum; l++) {
                iv[l] = ivnums[l];
                ov[l] = ovgids[l].length;
                tv[l] = tvnums[l];
            }
            m.addMember("ivnums_", counted(ctx.build(Array.of(DType.UINT64, MemorySegment.ofArray(iv)))));
            m.addMember("ovnums_", counted(ctx.build(Array.of(DType.UINT64, MemorySegment.ofArray(ov)))));
            m.addMember("tvnums_", counted(ctx.build(Array.of(DType.UINT64, MemorySegment.ofArray(tv)))));

            m.put(FragmentDescriptor.sizeKey("vertex_tables_"), (long) vnum);
            m.put(FragmentDescriptor.sizeKey("ovgid_lists_"), (long) vnum);
            m.put(FragmentDescriptor.sizeKey("ovg2l_maps_"), (long) vnum);
            long tv0 = System.nanoTime();
            for (GraphPlan.VertexLabel v : plan.vertices) {
                m.addMember(FragmentDescriptor.listKey("vertex_tables_", v.id),
                        counted(table(v.table, Set.of(GraphPlan.ID), v.innerRows[fid])));
                m.addMember(FragmentDescriptor.listKey("ovgid_lists_", v.id), counted(ovgidList(v.id)));
                m.addMember(FragmentDescriptor.listKey("ovg2l_maps_", v.id), counted(ovg2lMap(v.id)));
            }
            GraphLoader.trace("fragment " + fid + " vertex tables, outer vertex lists and maps", tv0);
            m.put(FragmentDescriptor.sizeKey("edge_tables_"), (long) enum_);
            for (GraphPlan.EdgeLabel e : plan.edges) {
                m.addMember(FragmentDescriptor.listKey("edge_tables_", e.id()),
                        counted(table(e.table(), Set.of(GraphPlan.SRC, GraphPlan.DST), localRows[e.id()])));
            }
            long t0 = System.nanoTime();
            writeCsrs(m);
            GraphLoader.trace("fragment " + fid + " csr blobs", t0);
            t0 = System.nanoTime();
            // the CSRs are independent: written in parallel (fork-join pool), each into its own blobs
            multigraph = fills.parallelStream().map(CsrFill::run).reduce(false, Boolean::logicalOr);
            GraphLoader.trace("fragment " + fid + " csr fill", t0);
            for (String absent : List.of("compact_ie_lists_", "compact_oe_lists_", "ie_boffsets_lists_", "oe_boffsets_lists_")) {
                m.put(FragmentDescriptor.sizeKey(absent), 0L);
            }
            m.put("is_multigraph_", multigraph);
            m.addMember("vm_ptr_", GraphLoader.vertexMap(vertexMap));
            m.putJson("schema_json_", schema());
            m.setNbytes(nbytes);
            return m;
        }

        private ObjectMeta counted(ObjectMeta member) {
            nbytes += member.nbytes();
            return member;
        }

        private ObjectMeta ovgidList(int label) {
            long[] g = ovgids[label];
            VertexMapWriter.Slot s = VertexMapWriter.Slot.of(ctx, 8L * g.length);
            MemorySegment.copy(MemorySegment.ofArray(g), 0, s.segment(), 0, 8L * g.length);
            return ArrayMetas.numeric(ctx, ArrayMetas.UINT64, g.length, s);
        }

        private ObjectMeta ovg2lMap(int label) {
            long[] g = ovgids[label];
            HashmapBuilder b = Hashmap.builder(DType.UINT64, DType.UINT64);
            for (int k = 0; k < g.length; k++) {
                b.put(g[k], parser.vid(label, ivnums[label] + k));
            }
            return ctx.build(b.build());
        }

        private ObjectMeta table(VectorSchemaRoot source, Set<String> skip, int[] rows) {
            List<FieldVector> out = new ArrayList<>();
            try {
                if (source != null) {
                    for (FieldVector from : source.getFieldVectors()) {
                        if (skip.contains(from.getName())) {
                            continue;
                        }
                        FieldVector to = from.getField().createVector(allocator);
                        out.add(to);
                        to.setInitialCapacity(rows.length);
                        to.allocateNew();
                        for (int k = 0; k < rows.length; k++) {
                            to.copyFromSafe(rows[k], k, from);
                        }
                        to.setValueCount(rows.length);
                    }
                }
                List<Field> fields = out.stream().map(FieldVector::getField).toList();
                try (VectorSchemaRoot root = new VectorSchemaRoot(fields, out, rows.length)) {
                    out = List.of();
                    return ctx.build(ArrowTable.of(root));
                }
            } finally {
                out.forEach(FieldVector::close);
            }
        }

        private void writeCsrs(ObjectMeta m) {
            String[] lists = plan.directed ? new String[] {"oe", "ie"} : new String[] {"oe"};
            for (String dir : lists) {
                m.put(FragmentDescriptor.sizeKey(dir + "_lists_"), (long) vnum);
                m.put(FragmentDescriptor.sizeKey(dir + "_offsets_lists_"), (long) vnum);
                for (int v = 0; v < vnum; v++) {
                    m.put(FragmentDescriptor.sizeKey(dir + "_lists_", v), (long) enum_);
                    m.put(FragmentDescriptor.sizeKey(dir + "_offsets_lists_", v), (long) enum_);
                    for (GraphPlan.EdgeLabel e : plan.edges) {
                        List<CsrFill.HalfEdges> parts = new ArrayList<>();
                        int nbrLabel = -1;
                        int el = e.id();
                        boolean out = dir.equals("oe");
                        if ((out ? e.srcLabel() : e.dstLabel()) == v) {
                            parts.add(out ? new CsrFill.HalfEdges(srcOff[el], dstOff[el], null, srcOff[el].length)
                                    : new CsrFill.HalfEdges(dstOff[el], srcOff[el], null, srcOff[el].length));
                            nbrLabel = out ? e.dstLabel() : e.srcLabel();
                        }
                        if (!plan.directed && e.dstLabel() == v) {
                            parts.add(reversedWithoutSelfLoops(el, e.srcLabel() == e.dstLabel()));
                            nbrLabel = e.srcLabel();
                        }
                        ObjectMeta[] csr = csr(v, nbrLabel, parts);
                        m.addMember(FragmentDescriptor.listKey(dir + "_lists_", v, el), counted(csr[0]));
                        m.addMember(FragmentDescriptor.listKey(dir + "_offsets_lists_", v, el), counted(csr[1]));
                    }
                }
            }
            if (!plan.directed) {
                m.put(FragmentDescriptor.sizeKey("ie_lists_"), 0L);
                m.put(FragmentDescriptor.sizeKey("ie_offsets_lists_"), 0L);
            }
        }

        /** An undirected edge label's dst -> src half-edges; a self-loop is stored once (by the src side). */
        private CsrFill.HalfEdges reversedWithoutSelfLoops(int el, boolean sameLabel) {
            int[] s = srcOff[el];
            int[] d = dstOff[el];
            int n = 0;
            for (int k = 0; k < s.length; k++) {
                if (!sameLabel || s[k] != d[k]) {
                    n++;
                }
            }
            int[] row = new int[n];
            int[] nbr = new int[n];
            int[] eid = new int[n];
            n = 0;
            for (int k = 0; k < s.length; k++) {
                if (!sameLabel || s[k] != d[k]) {
                    row[n] = d[k];
                    nbr[n] = s[k];
                    eid[n++] = k;
                }
            }
            return new CsrFill.HalfEdges(row, nbr, eid, n);
        }

        /**
         * The nbr units and the offsets of one CSR over the vertices of label {@code v}: the blobs are
         * created here, their bytes are written by a {@link CsrFill} run later (in parallel with the others).
         */
        private ObjectMeta[] csr(int v, int nbrLabel, List<CsrFill.HalfEdges> parts) {
            int rows = tvnums[v];
            long count = parts.stream().mapToLong(CsrFill.HalfEdges::count).sum();
            VertexMapWriter.Slot offsets = VertexMapWriter.Slot.of(ctx, 8L * (rows + 1));
            VertexMapWriter.Slot units = VertexMapWriter.Slot.of(ctx, (long) FragmentDescriptor.NBR_BYTES * count);
            fills.add(new CsrFill(parts, rows, nbrLabel < 0 ? 0 : parser.vid(nbrLabel, 0), units.segment(), offsets.segment()));
            return new ObjectMeta[] {ArrayMetas.nbrUnits(ctx, count, units), ArrayMetas.numeric(ctx, ArrayMetas.INT64, rows + 1, offsets)};
        }

        /** {@code PropertyGraphSchema::ToJSON}. */
        private ObjectNode schema() {
            ObjectNode root = Json.object();
            root.put("partitionNum", plan.fnum);
            ArrayNode types = root.putArray("types");
            for (GraphPlan.VertexLabel v : plan.vertices) {
                entry(types.addObject(), v.id, v.name, "VERTEX", v.table, Set.of(GraphPlan.ID));
            }
            for (GraphPlan.EdgeLabel e : plan.edges) {
                ObjectNode entry = types.addObject();
                entry(entry, e.id(), e.name(), "EDGE", e.table(), Set.of(GraphPlan.SRC, GraphPlan.DST));
                ArrayNode rel = entry.putArray("rawRelationShips");
                rel.addObject().put("srcVertexLabel", plan.vertices.get(e.srcLabel()).name)
                        .put("dstVertexLabel", plan.vertices.get(e.dstLabel()).name);
            }
            ArrayNode vv = root.putArray("valid_vertices");
            plan.vertices.forEach(v -> vv.add(1));
            ArrayNode ve = root.putArray("valid_edges");
            plan.edges.forEach(e -> ve.add(1));
            return root;
        }

        private static void entry(ObjectNode entry, int id, String label, String type, VectorSchemaRoot table, Set<String> skip) {
            entry.put("id", id).put("label", label).put("type", type);
            ArrayNode props = entry.putArray("propertyDefList");
            ArrayNode valid = Json.NODES.arrayNode();
            if (table != null) {
                for (Field f : table.getSchema().getFields()) {
                    if (!skip.contains(f.getName())) {
                        int propertyId = props.size();
                        props.addObject().put("id", propertyId).put("name", f.getName()).put("data_type", dataType(f.getType()));
                        valid.add(1);
                    }
                }
            }
            entry.putArray("indexes");
            entry.putArray("rawRelationShips");
            entry.set("valid_properties", valid);
        }

        /** {@code detail::PropertyTypeToString}. */
        private static String dataType(ArrowType t) {
            return switch (t) {
                case ArrowType.Bool b -> "BOOL";
                case ArrowType.Int i when i.getBitWidth() == 16 -> "SHORT";
                case ArrowType.Int i when i.getBitWidth() == 32 -> "INT";
                case ArrowType.Int i when i.getBitWidth() == 64 -> "LONG";
                case ArrowType.FloatingPoint f when f.getPrecision() == org.apache.arrow.vector.types.FloatingPointPrecision.SINGLE -> "FLOAT";
                case ArrowType.FloatingPoint f when f.getPrecision() == org.apache.arrow.vector.types.FloatingPointPrecision.DOUBLE -> "DOUBLE";
                case ArrowType.Utf8 u -> "STRING";
                case ArrowType.LargeUtf8 u -> "STRING";
                default -> "NULL";
            };
        }
    }
}
