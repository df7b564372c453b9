package io.vineyard.graph;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.Hold;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.ResolveContext;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.util.Text;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One fragment of a property graph, {@code vineyard::ArrowFragment<OID,uint64,...>}, read in place: the CSRs
 * ({@link #outEdges}, {@link #inEdges}), the vertex map and the property tables are views of the daemon's
 * shared memory (no copy), held until {@link #close()}.
 *
 * <p>Vertices are addressed by their original id and label ({@link #outNeighbors(String, Object)}), or, in
 * loops, by local vid: inner vertices of a label have offsets {@code 0..innerVertexCount-1}
 * ({@link #vidAt}; {@link #innerVertex} finds one by original id), outer vertices (the far end of a local edge, owned by another fragment) follow.
 */
public final class ArrowFragment implements AutoCloseable {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    /** A neighbour reached along one edge. */
    public record Neighbor(Object id, String label, String edgeLabel, long edgeId) {
    }

    private final int fid;
    private final int fnum;
    private final boolean directed;
    private final boolean multigraph;
    private final VidParser parser;
    private final long[] ivnums;
    private final long[] tvnums;
    private final MemorySegment[] ovgids;
    private final Csr[][] oe;
    private final Csr[][] ie;
    private final List<String> vertexLabels = new ArrayList<>();
    private final List<String> edgeLabels = new ArrayList<>();
    private final ArrowTable[] vertexTables;
    private final ArrowTable[] edgeTables;
    private final VertexMap vertexMap;
    private final Hold hold;

    ArrowFragment(ResolveContext ctx, ObjectMeta m) {
        this.fid = Math.toIntExact(m.getLong("fid_"));
        this.fnum = Math.toIntExact(m.getLong("fnum_"));
        this.directed = m.getBoolean("directed_", true);
        this.multigraph = m.getBoolean("is_multigraph_", false);
        if (m.getBoolean("compact_edges_", false)) {
            throw new VineyardException.NotImplemented("get " + m.what() + ": the varint-compact edge layout is not read yet");
        }
        this.parser = VidParser.of(fnum);
        int vnum = Math.toIntExact(m.getLong("vertex_label_num_"));
        int enum_ = Math.toIntExact(m.getLong("edge_label_num_"));
        this.ivnums = counts(ctx, m.member("ivnums_"));
        this.tvnums = counts(ctx, m.member("tvnums_"));
        this.ovgids = new MemorySegment[vnum];
        this.oe = new Csr[vnum][enum_];
        this.ie = directed ? new Csr[vnum][enum_] : oe;
        this.vertexTables = new ArrowTable[vnum];
        this.edgeTables = new ArrowTable[enum_];
        for (JsonNode t : m.getJson("schema_json_").get("types")) {
            (t.get("type").asText().equals("VERTEX") ? vertexLabels : edgeLabels).add(t.get("label").asText());
        }
        this.hold = ctx.object().retain();
        VertexMap vm = null;
        try {
            for (int v = 0; v < vnum; v++) {
                ovgids[v] = ctx.blob(m.member(FragmentDescriptor.listKey("ovgid_lists_", v)).member("buffer_")).segment();
                for (int e = 0; e < enum_; e++) {
                    oe[v][e] = csr(ctx, m, "oe", v, e);
                    if (directed) {
                        ie[v][e] = csr(ctx, m, "ie", v, e);
                    }
                }
                vertexTables[v] = ctx.resolve(m.member(FragmentDescriptor.listKey("vertex_tables_", v)), ArrowTable.class);
            }
            for (int e = 0; e < enum_; e++) {
                edgeTables[e] = ctx.resolve(m.member(FragmentDescriptor.listKey("edge_tables_", e)), ArrowTable.class);
            }
            vm = new VertexMap(ctx, m.member("vm_ptr_"));
        } catch (RuntimeException e) {
            closeTables();
            hold.close();
            throw e;
        }
        this.vertexMap = vm;
    }

    private static long[] counts(ResolveContext ctx, ObjectMeta array) {
        MemorySegment s = ctx.blob(array.member("buffer_")).segment();
        long[] out = new long[Math.toIntExact(array.getLong("size_"))];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.getAtIndex(LONG, i);
        }
        return out;
    }

    private static Csr csr(ResolveContext ctx, ObjectMeta m, String dir, int v, int e) {
        ObjectMeta units = m.member(FragmentDescriptor.listKey(dir + "_lists_", v, e));
        ObjectMeta offsets = m.member(FragmentDescriptor.listKey(dir + "_offsets_lists_", v, e));
        if (units.getLong("byte_width_", FragmentDescriptor.NBR_BYTES) != FragmentDescriptor.NBR_BYTES) {
            throw new VineyardException(Status.TYPE_ERROR, "get " + m.what() + ": nbr units of "
                    + units.getLong("byte_width_") + " bytes, expected 16 (uint64 vids and eids)");
        }
        return new Csr(ctx.blob(units.member("buffer_")).segment(), ctx.blob(offsets.member("buffer_")).segment());
    }

    /** This fragment's id in its group. */
    public int fid() {
        return fid;
    }

    /** The number of fragments of the graph. */
    public int fnum() {
        return fnum;
    }

    /** True for a directed graph. */
    public boolean directed() {
        return directed;
    }

    /** True when some vertex has two edges of one label to the same neighbour (vineyard's {@code is_multigraph_}). */
    public boolean isMultigraph() {
        return multigraph;
    }

    /** The vid parser of the graph. */
    public VidParser parser() {
        return parser;
    }

    /** The vertex map (shared by all fragments of the graph). */
    public VertexMap vertexMap() {
        return vertexMap;
    }

    /** Vertex label names, by label id. */
    public List<String> vertexLabels() {
        return List.copyOf(vertexLabels);
    }

    /** Edge label names, by label id. */
    public List<String> edgeLabels() {
        return List.copyOf(edgeLabels);
    }

    /** The id of a vertex label. */
    public int vertexLabel(String name) {
        return indexOf(vertexLabels, name, "vertex");
    }

    /** The id of an edge label. */
    public int edgeLabel(String name) {
        return indexOf(edgeLabels, name, "edge");
    }

    private int indexOf(List<String> labels, String name, String what) {
        int i = labels.indexOf(name);
        if (i < 0) {
            throw new VineyardException(Status.INVALID, "fragment " + fid + " has no " + what + " label " + name
                    + " (labels: " + labels + ")");
        }
        return i;
    }

    /** The inner vertices of {@code label} (the ones this fragment owns). */
    public long innerVertexCount(int label) {
        return ivnums[label];
    }

    /** Inner and outer vertices of {@code label}. */
    public long totalVertexCount(int label) {
        return tvnums[label];
    }

    /** The local vid of the inner vertex at {@code offset} of {@code label}. */
    public long vidAt(int label, long offset) {
        return parser.vid(label, offset);
    }

    /** The local vid of {@code oid} of {@code label} if this fragment owns it, else -1. */
    public long innerVertex(int label, Object oid) {
        long gid = vertexMap.gid(label, oid);
        return gid != -1 && parser.fid(gid) == fid ? parser.lid(gid) : -1;
    }

    /** The out-edges of the vertices of {@code label} along {@code edgeLabel}. */
    public Csr outEdges(int label, int edgeLabel) {
        return oe[label][edgeLabel];
    }

    /** The in-edges (for an undirected graph: the same as {@link #outEdges}). */
    public Csr inEdges(int label, int edgeLabel) {
        return ie[label][edgeLabel];
    }

    /** True when the local vid is one of this fragment's own vertices. */
    public boolean isInner(long vid) {
        return parser.offset(vid) < ivnums[parser.label(vid)];
    }

    /** The gid of a local vid (inner or outer). */
    public long gid(long vid) {
        int label = parser.label(vid);
        long offset = parser.offset(vid);
        if (offset < ivnums[label]) {
            return parser.gid(fid, label, offset);
        }
        return ovgids[label].getAtIndex(LONG, offset - ivnums[label]);
    }

    /** The original id of a local vid. */
    public Object idOf(long vid) {
        return vertexMap.oid(gid(vid));
    }

    /** The original ids of the inner vertices of {@code label}, in lid order. */
    public List<Object> vertices(String label) {
        int l = vertexLabel(label);
        List<Object> out = new ArrayList<>(Math.toIntExact(ivnums[l]));
        for (long o = 0; o < ivnums[l]; o++) {
            out.add(vertexMap.oid(fid, l, o));
        }
        return out;
    }

    /** The original ids of all inner vertices, label by label. */
    public List<Object> vertices() {
        List<Object> out = new ArrayList<>();
        for (String l : vertexLabels) {
            out.addAll(vertices(l));
        }
        return out;
    }

    /** The out-neighbours of {@code oid} of {@code label} along every edge label, with the edges' ids. */
    public List<Neighbor> outNeighbors(String label, Object oid) {
        return neighbors(oe, label, oid);
    }

    /** The in-neighbours (for an undirected graph, the same as the out-neighbours). */
    public List<Neighbor> inNeighbors(String label, Object oid) {
        return neighbors(ie, label, oid);
    }

    /** The number of out-edges of {@code oid} of {@code label}, over all edge labels. */
    public long outDegree(String label, Object oid) {
        return degree(oe, label, oid);
    }

    /** The number of in-edges. */
    public long inDegree(String label, Object oid) {
        return degree(ie, label, oid);
    }

    private long requireInner(String label, Object oid) {
        int l = vertexLabel(label);
        long vid = innerVertex(l, oid);
        if (vid < 0) {
            long gid = vertexMap.gid(l, oid);
            throw new VineyardException(Status.OBJECT_NOT_EXISTS, gid == -1
                    ? "vertex " + oid + " of label " + label + " is not in the graph"
                    : "vertex " + oid + " of label " + label + " is not an inner vertex of fragment " + fid
                    + " (fragment " + parser.fid(gid) + " owns it)");
        }
        return vid;
    }

    private List<Neighbor> neighbors(Csr[][] lists, String label, Object oid) {
        long vid = requireInner(label, oid);
        int l = parser.label(vid);
        long o = parser.offset(vid);
        List<Neighbor> out = new ArrayList<>();
        for (int e = 0; e < edgeLabels.size(); e++) {
            Csr c = lists[l][e];
            for (long i = c.begin(o), end = c.end(o); i < end; i++) {
                long n = c.neighbor(i);
                out.add(new Neighbor(idOf(n), vertexLabels.get(parser.label(n)), edgeLabels.get(e), c.edgeId(i)));
            }
        }
        return out;
    }

    private long degree(Csr[][] lists, String label, Object oid) {
        long vid = requireInner(label, oid);
        long d = 0;
        for (int e = 0; e < edgeLabels.size(); e++) {
            d += lists[parser.label(vid)][e].degree(parser.offset(vid));
        }
        return d;
    }

    /** A property of an inner vertex, as Arrow Java gives it (strings as {@link String}). */
    public Object vertexProperty(String label, Object oid, String property) {
        long vid = requireInner(label, oid);
        return cell(vertexTables[parser.label(vid)], property, parser.offset(vid), "vertex label " + label);
    }

    /** A property of the edge {@code edgeId} of {@code edgeLabel} (a {@link Neighbor#edgeId()}). */
    public Object edgeProperty(String edgeLabel, long edgeId, String property) {
        return cell(edgeTables[edgeLabel(edgeLabel)], property, edgeId, "edge label " + edgeLabel);
    }

    /** The property table of a vertex label (rows: inner vertices), as Arrow vectors over the shared memory. */
    public ArrowTable vertexTable(int label) {
        return vertexTables[label];
    }

    /** The property table of an edge label (row = edge id). */
    public ArrowTable edgeTable(int edgeLabel) {
        return edgeTables[edgeLabel];
    }

    private static Object cell(ArrowTable t, String property, long row, String what) {
        FieldVector v = t.batches().isEmpty() ? null : t.batches().getFirst().getVector(property);
        if (v == null) {
            throw new VineyardException(Status.INVALID, what + " has no property " + property);
        }
        Object x = v.getObject(Math.toIntExact(row));
        return x instanceof Text text ? text.toString() : x;
    }

    private void closeTables() {
        for (ArrowTable t : vertexTables) {
            if (t != null) {
                t.close();
            }
        }
        for (ArrowTable t : edgeTables) {
            if (t != null) {
                t.close();
            }
        }
    }

    /** Releases the views: the daemon's blobs are released once every view of them is closed. */
    @Override
    public void close() {
        closeTables();
        vertexMap.close();
        hold.close();
    }

    @Override
    public String toString() {
        return "ArrowFragment[" + fid + "/" + fnum + ", vertex labels " + vertexLabels + ", edge labels " + edgeLabels + "]";
    }
}
