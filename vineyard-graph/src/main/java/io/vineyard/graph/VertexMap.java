package io.vineyard.graph;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.ResolveContext;
import io.vineyard.client.types.Hashmap;
import io.vineyard.client.types.StringViewHashmap;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A read view of {@code vineyard::ArrowVertexMap<OID,uint64>}: original id to gid per label and back, over
 * the shared memory. Ids are looked up in the {@code o2g_} Hashmaps in place ({@link Hashmap} for int64 ids,
 * {@link StringViewHashmap} for strings); a string-id map written without them is indexed on first use
 * from {@code oid_arrays_}.
 */
public final class VertexMap implements AutoCloseable {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private final int fnum;
    private final int labelNum;
    private final boolean stringIds;
    private final VidParser parser;
    private final MemorySegment[][] oids;
    private final MemorySegment[][] stringOffsets;
    private final long[][] lengths;
    private final Hashmap[][] o2g;
    private final StringViewHashmap[][] stringO2g;
    /** True when every fragment and label of a string-id map has its o2g_ map (else the index is used). */
    private final boolean stringMaps;
    private List<Map<String, Long>> stringIndex;

    VertexMap(ResolveContext ctx, ObjectMeta m) {
        this.fnum = Math.toIntExact(m.getLong("fnum"));
        this.labelNum = Math.toIntExact(m.getLong("label_num"));
        this.stringIds = m.typename().contains("string");
        this.parser = VidParser.of(fnum);
        this.oids = new MemorySegment[fnum][labelNum];
        this.stringOffsets = new MemorySegment[fnum][labelNum];
        this.lengths = new long[fnum][labelNum];
        this.o2g = new Hashmap[fnum][labelNum];
        this.stringO2g = new StringViewHashmap[fnum][labelNum];
        boolean allStringMaps = true;
        try {
            for (int f = 0; f < fnum; f++) {
                for (int l = 0; l < labelNum; l++) {
                    ObjectMeta a = m.member(FragmentDescriptor.vertexMapKey("oid_arrays_", f, l));
                    lengths[f][l] = a.getLong("length_");
                    if (stringIds) {
                        stringOffsets[f][l] = ctx.blob(a.member("buffer_offsets_")).segment();
                        oids[f][l] = ctx.blob(a.member("buffer_data_")).segment();
                        String key = FragmentDescriptor.vertexMapKey("o2g_", f, l);
                        if (m.hasMember(key)) {
                            stringO2g[f][l] = ctx.resolve(m.member(key), StringViewHashmap.class);
                        } else {
                            allStringMaps = false;
                        }
                    } else {
                        oids[f][l] = ctx.blob(a.member("buffer_")).segment();
                        o2g[f][l] = ctx.resolve(m.member(FragmentDescriptor.vertexMapKey("o2g_", f, l)), Hashmap.class);
                    }
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.stringMaps = stringIds && allStringMaps;
    }

    /** The number of fragments. */
    public int fnum() {
        return fnum;
    }

    /** True for string ids. */
    public boolean stringIds() {
        return stringIds;
    }

    /** The vertices of {@code label} on fragment {@code fid}. */
    public long innerVertexCount(int fid, int label) {
        return lengths[fid][label];
    }

    /** The original id of a gid. */
    public Object oid(long gid) {
        return oid(parser.fid(gid), parser.label(gid), parser.offset(gid));
    }

    /** The original id of the vertex at {@code offset} of {@code label} on fragment {@code fid}. */
    public Object oid(int fid, int label, long offset) {
        if (offset < 0 || offset >= lengths[fid][label]) {
            throw new VineyardException(Status.INVALID, "vertex map: no vertex " + offset + " of label " + label
                    + " on fragment " + fid + " (it has " + lengths[fid][label] + ")");
        }
        if (!stringIds) {
            return oids[fid][label].getAtIndex(LONG, offset);
        }
        long from = stringOffsets[fid][label].getAtIndex(LONG, offset);
        long to = stringOffsets[fid][label].getAtIndex(LONG, offset + 1);
        return new String(oids[fid][label].asSlice(from, to - from).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** The gid of {@code oid} in {@code label}, or -1 when the label has no such vertex. */
    public long gid(int label, Object oid) {
        if (label < 0 || label >= labelNum) {
            return -1;
        }
        if (stringIds) {
            if (!(oid instanceof String s)) {
                return -1;
            }
            if (stringMaps) {
                byte[] key = s.getBytes(StandardCharsets.UTF_8);
                for (int f = 0; f < fnum; f++) {
                    long gid = stringO2g[f][label].getOrDefault(key, -1L);
                    if (gid != -1) {
                        return gid;
                    }
                }
                return -1;
            }
            return stringIndex().get(label).getOrDefault(s, -1L);
        }
        if (!(oid instanceof Number n)) {
            return -1;
        }
        long key = n.longValue();
        for (int f = 0; f < fnum; f++) {
            if (o2g[f][label].containsKey(key)) {
                return o2g[f][label].getLong(key);
            }
        }
        return -1;
    }

    private synchronized List<Map<String, Long>> stringIndex() {
        if (stringIndex == null) {
            List<Map<String, Long>> index = new ArrayList<>();
            for (int l = 0; l < labelNum; l++) {
                Map<String, Long> byLabel = new HashMap<>();
                for (int f = 0; f < fnum; f++) {
                    for (long o = 0; o < lengths[f][l]; o++) {
                        byLabel.put((String) oid(f, l, o), parser.gid(f, l, o));
                    }
                }
                index.add(byLabel);
            }
            stringIndex = index;
        }
        return stringIndex;
    }

    /** Releases the Hashmaps' holds. */
    @Override
    public void close() {
        for (StringViewHashmap[] row : stringO2g) {
            for (StringViewHashmap h : row) {
                if (h != null) {
                    h.close();
                }
            }
        }
        for (Hashmap[] row : o2g) {
            for (Hashmap h : row) {
                if (h != null) {
                    h.close();
                }
            }
        }
    }
}
