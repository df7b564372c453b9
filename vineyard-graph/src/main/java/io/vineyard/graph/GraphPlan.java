package io.vineyard.graph;

import io.vineyard.common.VineyardException;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * A validated, partitioned graph ready to be written: the vertex labels with their ids, the fragment and
 * gid of every vertex, and each edge label's endpoints as gids. Built on the loader's thread; read-only
 * afterwards (the fragment writers read it).
 */
final class GraphPlan {
    static final String ID = "id";
    static final String SRC = "src";
    static final String DST = "dst";

    final int fnum;
    final boolean directed;
    final boolean stringIds;
    final VidParser parser;
    final List<VertexLabel> vertices;
    final List<EdgeLabel> edges;

    /** One vertex label: ids in table order, their fragments and gids. */
    static final class VertexLabel {
        final String name;
        final int id;
        /** Null for a label made from edge endpoints (no properties). */
        final VectorSchemaRoot table;
        long[] intIds;
        List<String> strIds;
        int count;
        /** Id to row until {@link #partition}, then id to gid ({@link #gidIndex}). */
        LongIndex intIndex;
        boolean gidIndex;
        Map<String, Integer> strIndex;
        /** Rows of each fragment, in table order: the fragment's inner vertices. */
        int[][] innerRows;
        long[] gidOfRow;

        VertexLabel(String name, int id, VectorSchemaRoot table) {
            this.name = name;
            this.id = id;
            this.table = table;
        }

        int rowOf(Object oid) {
            if (gidIndex) {
                throw new IllegalStateException("rowOf after the partition: the index maps ids to gids");
            }
            if (strIndex != null) {
                Integer r = strIndex.get((String) oid);
                return r == null ? -1 : r;
            }
            return (int) intIndex.get((Long) oid);
        }
    }

    /**
     * One edge label: endpoints as gids, properties in the table's other columns, and per fragment the rows
     * it stores (those with an end it owns, in table order: the fragment's eids).
     */
    record EdgeLabel(String name, int id, int srcLabel, int dstLabel, VectorSchemaRoot table, long[] srcGid, long[] dstGid,
                     int[][] rowsOf) {
        int count() {
            return srcGid.length;
        }
    }

    /**
     * Buckets the rows by the fragments of their ends, in table order, for all fragments at once: in
     * parallel chunks of rows, counted first, then each chunk filling its own ranges.
     */
    private static int[][] rowsByFragment(long[] src, long[] dst, int fnum, VidParser parser) {
        int n = src.length;
        if (fnum == 1) {
            return new int[][] {IntStream.range(0, n).toArray()};
        }
        int chunk = 1 << 20;
        int chunks = (n + chunk - 1) / chunk;
        int[][] counts = new int[chunks][fnum];
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int[] count = counts[c];
            for (int r = c * chunk, end = Math.min(n, r + chunk); r < end; r++) {
                int fs = parser.fid(src[r]);
                int fd = parser.fid(dst[r]);
                count[fs]++;
                if (fd != fs) {
                    count[fd]++;
                }
            }
        });
        int[] total = new int[fnum];
        for (int[] count : counts) {
            for (int f = 0; f < fnum; f++) {
                int c = count[f];
                count[f] = total[f];   // the count becomes the chunk's first index in the fragment's rows
                total[f] += c;
            }
        }
        int[][] rows = new int[fnum][];
        for (int f = 0; f < fnum; f++) {
            rows[f] = new int[total[f]];
        }
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int[] fill = counts[c];
            for (int r = c * chunk, end = Math.min(n, r + chunk); r < end; r++) {
                int fs = parser.fid(src[r]);
                int fd = parser.fid(dst[r]);
                rows[fs][fill[fs]++] = r;
                if (fd != fs) {
                    rows[fd][fill[fd]++] = r;
                }
            }
        });
        return rows;
    }

    private GraphPlan(int fnum, boolean directed, boolean stringIds, List<VertexLabel> vertices, List<EdgeLabel> edges) {
        this.fnum = fnum;
        this.directed = directed;
        this.stringIds = stringIds;
        this.parser = VidParser.of(fnum);
        this.vertices = vertices;
        this.edges = edges;
    }

    int vertexLabelNum() {
        return vertices.size();
    }

    int edgeLabelNum() {
        return edges.size();
    }

    static GraphPlan of(Map<String, VectorSchemaRoot> vertexTables, List<GraphLoader.EdgeInput> edgeInputs,
                        int fnum, boolean directed) {
        boolean strings = idKind(vertexTables, edgeInputs);
        Map<String, VertexLabel> labels = new LinkedHashMap<>();
        for (Map.Entry<String, VectorSchemaRoot> e : vertexTables.entrySet()) {
            VertexLabel v = new VertexLabel(e.getKey(), labels.size(), e.getValue());
            readVertexIds(v, column(e.getValue(), ID, "vertex label " + e.getKey()), strings);
            labels.put(v.name, v);
        }
        for (GraphLoader.EdgeInput e : edgeInputs) {
            for (String l : List.of(e.srcLabel(), e.dstLabel())) {
                labels.computeIfAbsent(l, name -> emptyLabel(name, labels.size(), strings));
            }
        }
        if (labels.size() > FragmentDescriptor.MAX_VERTEX_LABELS) {
            throw GraphLoader.invalid("load: " + labels.size() + " vertex labels, vineyard allows at most "
                    + FragmentDescriptor.MAX_VERTEX_LABELS);
        }
        for (GraphLoader.EdgeInput e : edgeInputs) {
            addEndpoints(labels.get(e.srcLabel()), column(e.table(), SRC, "edge label " + e.label()),
                    labels.get(e.dstLabel()), column(e.table(), DST, "edge label " + e.label()));
        }
        List<VertexLabel> vs = new ArrayList<>(labels.values());
        VidParser parser = VidParser.of(fnum);
        for (VertexLabel v : vs) {
            partition(v, fnum, parser);
        }
        List<EdgeLabel> es = new ArrayList<>();
        for (GraphLoader.EdgeInput e : edgeInputs) {
            VertexLabel src = labels.get(e.srcLabel());
            VertexLabel dst = labels.get(e.dstLabel());
            long[] s = gids(src, e.table().getVector(SRC), e.label());
            long[] d = gids(dst, e.table().getVector(DST), e.label());
            es.add(new EdgeLabel(e.label(), es.size(), src.id, dst.id, e.table(), s, d, rowsByFragment(s, d, fnum, parser)));
        }
        return new GraphPlan(fnum, directed, strings, vs, es);
    }

    private static boolean idKind(Map<String, VectorSchemaRoot> vertexTables, List<GraphLoader.EdgeInput> edgeInputs) {
        Boolean strings = null;
        List<FieldVector> columns = new ArrayList<>();
        List<String> what = new ArrayList<>();
        vertexTables.forEach((l, t) -> {
            columns.add(column(t, ID, "vertex label " + l));
            what.add("vertex label " + l + " column id");
        });
        for (GraphLoader.EdgeInput e : edgeInputs) {
            columns.add(column(e.table(), SRC, "edge label " + e.label()));
            what.add("edge label " + e.label() + " column src");
            columns.add(column(e.table(), DST, "edge label " + e.label()));
            what.add("edge label " + e.label() + " column dst");
        }
        for (int i = 0; i < columns.size(); i++) {
            FieldVector c = columns.get(i);
            boolean s;
            if (c instanceof BaseIntVector) {
                s = false;
            } else if (c instanceof VarCharVector || c instanceof LargeVarCharVector) {
                s = true;
            } else {
                throw GraphLoader.invalid("load: " + what.get(i) + " is " + c.getField().getType()
                        + ", vertex ids must be integers or strings");
            }
            if (strings != null && strings != s) {
                throw GraphLoader.invalid("load: " + what.get(i) + " holds " + (s ? "strings" : "integers")
                        + " but other id columns hold " + (strings ? "strings" : "integers"));
            }
            strings = s;
        }
        return strings != null && strings;
    }

    private static FieldVector column(VectorSchemaRoot t, String name, String what) {
        FieldVector v = t.getVector(name);
        if (v == null) {
            throw GraphLoader.invalid("load: " + what + " has no column " + name + " (columns: "
                    + t.getSchema().getFields().stream().map(f -> f.getName()).toList() + ")");
        }
        return v;
    }

    private static Object idAt(FieldVector c, int row, String what) {
        if (c.isNull(row)) {
            throw GraphLoader.invalid("load: " + what + " row " + row + " has a null id");
        }
        if (c instanceof BaseIntVector iv) {
            return iv.getValueAsLong(row);
        }
        return c instanceof VarCharVector s ? new String(s.get(row), StandardCharsets.UTF_8)
                : new String(((LargeVarCharVector) c).get(row), StandardCharsets.UTF_8);
    }

    private static VertexLabel emptyLabel(String name, int id, boolean strings) {
        VertexLabel v = new VertexLabel(name, id, null);
        if (strings) {
            v.strIds = new ArrayList<>();
            v.strIndex = new HashMap<>();
        } else {
            v.intIds = new long[16];
            v.intIndex = new LongIndex(16);
        }
        return v;
    }

    private static void readVertexIds(VertexLabel v, FieldVector c, boolean strings) {
        int n = c.getValueCount();
        if (strings) {
            v.strIds = new ArrayList<>(n);
            v.strIndex = new HashMap<>(n * 2);
        } else {
            v.intIds = new long[n];
            v.intIndex = new LongIndex(n);
            if (c.getNullCount() == 0 && c instanceof BaseIntVector iv) {
                for (int r = 0; r < n; r++) {
                    long id = iv.getValueAsLong(r);
                    long before = v.intIndex.putIfAbsent(id, r);
                    if (before >= 0) {
                        throw GraphLoader.invalid("load: vertex " + id + " of label " + v.name + " is given twice (rows "
                                + before + " and " + r + ")");
                    }
                    v.intIds[r] = id;
                }
                v.count = n;
                return;
            }
        }
        for (int r = 0; r < n; r++) {
            Object id = idAt(c, r, "vertex label " + v.name);
            if (!add(v, id)) {
                throw GraphLoader.invalid("load: vertex " + id + " of label " + v.name + " is given twice (rows "
                        + v.rowOf(id) + " and " + r + ")");
            }
        }
    }

    /** Adds a new id; false when the label has it already. */
    private static boolean add(VertexLabel v, Object id) {
        if (v.strIndex != null) {
            if (v.strIndex.putIfAbsent((String) id, v.count) != null) {
                return false;
            }
            v.strIds.add((String) id);
        } else {
            long x = (Long) id;
            if (v.intIndex.putIfAbsent(x, v.count) >= 0) {
                return false;
            }
            if (v.count == v.intIds.length) {
                v.intIds = Arrays.copyOf(v.intIds, v.count * 2);
            }
            v.intIds[v.count] = x;
        }
        v.count++;
        return true;
    }

    /** Adds the ends of the edges to the labels made from edges, row by row: src, then dst. */
    private static void addEndpoints(VertexLabel srcLabel, FieldVector src, VertexLabel dstLabel, FieldVector dst) {
        if (srcLabel.table != null && dstLabel.table != null) {
            return;
        }
        int n = src.getValueCount();
        for (int r = 0; r < n; r++) {
            addEndpoint(srcLabel, src, r);
            addEndpoint(dstLabel, dst, r);
        }
    }

    private static void addEndpoint(VertexLabel v, FieldVector c, int r) {
        if (v.table != null) {
            return;  // checked when the edges are mapped to gids
        }
        if (c instanceof BaseIntVector iv && !c.isNull(r)) {
            long x = iv.getValueAsLong(r);
            if (v.intIndex.get(x) < 0) {
                add(v, x);
            }
            return;
        }
        Object id = idAt(c, r, "edges of vertex label " + v.name);
        if (v.rowOf(id) < 0) {
            add(v, id);
        }
    }

    /** The fragment of a vertex id: {@code id mod fnum} (unsigned), strings by their FNV-1a hash. */
    static int fragmentOf(Object id, int fnum) {
        if (id instanceof Long x) {
            return (int) Long.remainderUnsigned(x, fnum);
        }
        long h = 0xcbf29ce484222325L;
        for (byte b : ((String) id).getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001b3L;
        }
        return (int) Long.remainderUnsigned(h, fnum);
    }

    private static void partition(VertexLabel v, int fnum, VidParser parser) {
        int n = v.count;
        if (v.intIds != null && v.intIds.length != n) {
            v.intIds = Arrays.copyOf(v.intIds, n);
        }
        int[] fidOf = new int[n];
        int[] counts = new int[fnum];
        for (int r = 0; r < n; r++) {
            int f = v.intIds != null ? (int) Long.remainderUnsigned(v.intIds[r], fnum) : fragmentOf(v.strIds.get(r), fnum);
            fidOf[r] = f;
            counts[f]++;
        }
        v.innerRows = new int[fnum][];
        for (int f = 0; f < fnum; f++) {
            v.innerRows[f] = new int[counts[f]];
        }
        int[] fill = new int[fnum];
        v.gidOfRow = new long[n];
        for (int r = 0; r < n; r++) {
            int f = fidOf[r];
            v.gidOfRow[r] = parser.gid(f, v.id, fill[f]);
            v.innerRows[f][fill[f]++] = r;
        }
        if (v.intIndex != null) {
            // from now on the index maps an id to its gid (a gid is never -1: its offset is below 2^31)
            v.intIndex.remap(v.gidOfRow);
            v.gidIndex = true;
        }
    }

    private static long[] gids(VertexLabel v, FieldVector c, String edgeLabel) {
        int n = c.getValueCount();
        long[] out = new long[n];
        if (v.intIndex != null && c instanceof BigIntVector big && c.getNullCount() == 0 && n > 0) {
            // the hot path of big loads: the values read in place, no per-row null or bounds check
            // (in parallel chunks: the index is only read)
            MemorySegment values = MemorySegment.ofAddress(big.getDataBuffer().memoryAddress()).reinterpret(8L * n);
            int chunk = 1 << 20;
            IntStream.range(0, (n + chunk - 1) / chunk).parallel().forEach(part -> {
                for (int r = part * chunk, end = Math.min(n, r + chunk); r < end; r++) {
                    long gid = v.intIndex.get(values.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, r));
                    if (gid == -1) {
                        throw unknown(v, c, r, edgeLabel);
                    }
                    out[r] = gid;
                }
            });
            return out;
        }
        if (v.intIndex != null) {
            BaseIntVector iv = (BaseIntVector) c;
            for (int r = 0; r < n; r++) {
                long gid = c.isNull(r) ? -1 : v.intIndex.get(iv.getValueAsLong(r));
                if (gid == -1) {
                    throw unknown(v, c, r, edgeLabel);
                }
                out[r] = gid;
            }
            return out;
        }
        for (int r = 0; r < n; r++) {
            int row = c.isNull(r) ? -1 : v.rowOf(idAt(c, r, "edge label " + edgeLabel));
            if (row < 0) {
                throw unknown(v, c, r, edgeLabel);
            }
            out[r] = v.gidOfRow[row];
        }
        return out;
    }

    private static VineyardException unknown(VertexLabel v, FieldVector c, int r, String edgeLabel) {
        return GraphLoader.invalid("load: edge label " + edgeLabel + " row " + r + " column " + c.getName() + " names "
                + (c.isNull(r) ? "null" : c.getObject(r)) + ", which is not a vertex of label " + v.name);
    }
}
