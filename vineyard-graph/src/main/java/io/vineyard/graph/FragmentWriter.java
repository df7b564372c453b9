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
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
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
 * of the local edges by neighbour is the only other pass; each nbr unit is then written once, straight into
 * the nbr blob, in its final place. The edge data is never copied anywhere else.
 */
public final class FragmentWriter {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

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
        /** Per label, the rank among the outer vertices by dense number ({@link #fidBase} + offset). */
        final int[][] outerRank;
        /** Per label, the dense number of each fragment's first vertex. */
        final int[][] fidBase;
        final int[] tvnums;
        /** Per edge label: rows of the input table stored here (eid = index). */
        final int[][] localRows;
        final int[][] srcOff;
        final int[][] dstOff;
        /** The CSR writes, run once every blob of the fragment is created. */
        final List<Fill> fills = new ArrayList<>();
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
            this.outerRank = new int[vnum][];
            this.fidBase = new int[vnum][];
            this.localRows = new int[enum_][];
            this.srcOff = new int[enum_][];
            this.dstOff = new int[enum_][];
            for (GraphPlan.VertexLabel v : plan.vertices) {
                ivnums[v.id] = v.innerRows[fid].length;
            }
            selectEdges();
            collectOuter();
            for (int l = 0; l < vnum; l++) {
                tvnums[l] = ivnums[l] + ovgids[l].length;
            }
            localOffsets();
        }

        private void selectEdges() {
            for (GraphPlan.EdgeLabel e : plan.edges) {
                localRows[e.id()] = e.rowsOf()[fid];
            }
        }

        /**
         * The outer vertices of each label: distinct gids in ascending (unsigned) order, found by marking
         * each vertex's dense number (fragment by fragment, then offset), and their ranks by that number.
         */
        private void collectOuter() {
            int[][] marks = new int[vnum][];
            for (GraphPlan.VertexLabel v : plan.vertices) {
                int[] base = new int[plan.fnum + 1];
                for (int f = 0; f < plan.fnum; f++) {
                    base[f + 1] = base[f] + v.innerRows[f].length;
                }
                fidBase[v.id] = base;
                marks[v.id] = new int[base[plan.fnum]];
            }
            for (GraphPlan.EdgeLabel e : plan.edges) {
                for (long[] ends : List.of(e.srcGid(), e.dstGid())) {
                    int l = ends == e.srcGid() ? e.srcLabel() : e.dstLabel();
                    int[] base = fidBase[l];
                    int[] mark = marks[l];
                    for (int r : localRows[e.id()]) {
                        long g = ends[r];
                        int f = parser.fid(g);
                        if (f != fid) {
                            mark[base[f] + (int) parser.offset(g)] = 1;
                        }
                    }
                }
            }
            for (int l = 0; l < vnum; l++) {
                int[] mark = marks[l];
                int[] base = fidBase[l];
                int count = 0;
                for (int m : mark) {
                    count += m;
                }
                long[] g = new long[count];
                int k = 0;
                for (int f = 0; f < plan.fnum; f++) {
                    for (int i = base[f]; i < base[f + 1]; i++) {
                        if (mark[i] != 0) {
                            g[k] = parser.gid(f, l, i - base[f]);
                            mark[i] = k++;   // the mark becomes the rank
                        }
                    }
                }
                ovgids[l] = g;
                outerRank[l] = mark;
            }
        }

        private int localOffset(long gid, int label) {
            int f = parser.fid(gid);
            if (f == fid) {
                return (int) parser.offset(gid);
            }
            return ivnums[label] + outerRank[label][fidBase[label][f] + (int) parser.offset(gid)];
        }

        private void localOffsets() {
            for (GraphPlan.EdgeLabel e : plan.edges) {
                int[] rows = localRows[e.id()];
                int[] s = new int[rows.length];
                int[] d = new int[rows.length];
                for (int k = 0; k < rows.length; k++) {
                    s[k] = localOffset(e.srcGid()[rows[k]], e.srcLabel());
                    d[k] = localOffset(e.dstGid()[rows[k]], e.dstLabel());
                }
                srcOff[e.id()] = s;
                dstOff[e.id()] = d;
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
            for (GraphPlan.VertexLabel v : plan.vertices) {
                m.addMember(FragmentDescriptor.listKey("vertex_tables_", v.id),
                        counted(table(v.table, Set.of(GraphPlan.ID), v.innerRows[fid])));
                m.addMember(FragmentDescriptor.listKey("ovgid_lists_", v.id), counted(ovgidList(v.id)));
                m.addMember(FragmentDescriptor.listKey("ovg2l_maps_", v.id), counted(ovg2lMap(v.id)));
            }
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
            multigraph = fills.parallelStream().map(Fill::run).reduce(false, Boolean::logicalOr);
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

        /** The (row, neighbour, eid) half-edges stored in one CSR. */
        private record HalfEdges(int[] row, int[] nbr, int[] eid, int count) {
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
                        List<HalfEdges> parts = new ArrayList<>();
                        int nbrLabel = -1;
                        int el = e.id();
                        boolean out = dir.equals("oe");
                        if ((out ? e.srcLabel() : e.dstLabel()) == v) {
                            parts.add(out ? new HalfEdges(srcOff[el], dstOff[el], null, srcOff[el].length)
                                    : new HalfEdges(dstOff[el], srcOff[el], null, srcOff[el].length));
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
        private HalfEdges reversedWithoutSelfLoops(int el, boolean sameLabel) {
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
            return new HalfEdges(row, nbr, eid, n);
        }

        /**
         * The nbr units and the offsets of one CSR over the vertices of label {@code v}: the blobs are
         * created here, their bytes are written by a {@link Fill} run later (in parallel with the others).
         */
        private ObjectMeta[] csr(int v, int nbrLabel, List<HalfEdges> parts) {
            int rows = tvnums[v];
            long count = parts.stream().mapToLong(HalfEdges::count).sum();
            VertexMapWriter.Slot offsets = VertexMapWriter.Slot.of(ctx, 8L * (rows + 1));
            VertexMapWriter.Slot units = VertexMapWriter.Slot.of(ctx, (long) FragmentDescriptor.NBR_BYTES * count);
            fills.add(new Fill(parts, rows, nbrLabel < 0 ? 0 : parser.vid(nbrLabel, 0), units.segment(), offsets.segment()));
            return new ObjectMeta[] {ArrayMetas.nbrUnits(ctx, count, units), ArrayMetas.numeric(ctx, ArrayMetas.INT64, rows + 1, offsets)};
        }

        /**
         * Writes one CSR's offsets and nbr units into their blobs; true when it has parallel edges. The
         * half-edges are scattered to their rows in input order (so ties keep ascending eids), then each run
         * is sorted by neighbour vid in place.
         */
        private record Fill(List<HalfEdges> parts, int rows, long nbrBase, MemorySegment nbrs, MemorySegment off) {
            boolean run() {
                if (parts.isEmpty()) {
                    off.fill((byte) 0);
                    return false;
                }
                long[] cursor = new long[rows + 1];
                for (HalfEdges h : parts) {
                    for (int k = 0; k < h.count; k++) {
                        cursor[h.row[k] + 1]++;
                    }
                }
                for (int i = 0; i < rows; i++) {
                    cursor[i + 1] += cursor[i];
                }
                MemorySegment.copy(MemorySegment.ofArray(cursor), 0, off, 0, 8L * (rows + 1));
                for (HalfEdges h : parts) {
                    for (int k = 0; k < h.count; k++) {
                        long at = (long) FragmentDescriptor.NBR_BYTES * cursor[h.row[k]]++;
                        nbrs.set(LONG, at + FragmentDescriptor.NBR_VID, nbrBase | h.nbr[k]);
                        nbrs.set(LONG, at + FragmentDescriptor.NBR_EID, h.eid == null ? k : h.eid[k]);
                    }
                }
                boolean parallel = false;
                long[] buffer = new long[64];
                long from = 0;
                for (int i = 0; i < rows; i++) {
                    long to = cursor[i];   // after the scatter, cursor[i] is the end of run i
                    if (to - from > 1) {
                        buffer = sortRun(nbrs, from, (int) (to - from), buffer);
                        for (int k = 1; k < to - from; k++) {
                            parallel |= buffer[2 * k] == buffer[2 * k - 2];
                        }
                    }
                    from = to;
                }
                return parallel;
            }
        }

        /**
         * Sorts the {@code n} units from unit {@code from} by vid, ties kept in order: the run is copied to the
         * heap (insertion sort for short runs, else a sort of (vid offset, position) keys), then copied back
         * when it was not sorted. Returns the buffer, grown when it had to be, holding the sorted run.
         */
        private static long[] sortRun(MemorySegment nbrs, long from, int n, long[] buffer) {
            long[] b = buffer.length >= 4L * n ? buffer : new long[4 * n];
            long base = from * FragmentDescriptor.NBR_BYTES;
            MemorySegment.copy(nbrs, LONG, base, b, 0, 2 * n);
            boolean sorted = true;
            for (int i = 1; i < n && sorted; i++) {
                sorted = b[2 * i] >= b[2 * i - 2];
            }
            if (sorted) {
                return b;
            }
            if (n <= 32) {
                for (int i = 1; i < n; i++) {
                    long vid = b[2 * i];
                    long eid = b[2 * i + 1];
                    int j = i - 1;
                    while (j >= 0 && b[2 * j] > vid) {
                        b[2 * j + 2] = b[2 * j];
                        b[2 * j + 3] = b[2 * j + 1];
                        j--;
                    }
                    b[2 * j + 2] = vid;
                    b[2 * j + 3] = eid;
                }
            } else {
                // the run's vids share one label (one CSR, one neighbour label): offsets < 2^31 order them
                long label = b[0] & ~0x7FFFFFFFL;
                long[] keys = new long[n];
                for (int i = 0; i < n; i++) {
                    keys[i] = ((b[2 * i] - label) << 32) | i;
                }
                Arrays.sort(keys);
                for (int i = 0; i < n; i++) {
                    int at = (int) keys[i];
                    b[2 * n + 2 * i] = b[2 * at];
                    b[2 * n + 2 * i + 1] = b[2 * at + 1];
                }
                System.arraycopy(b, 2 * n, b, 0, 2 * n);
            }
            MemorySegment.copy(b, 0, nbrs, LONG, base, 2 * n);
            return b;
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
