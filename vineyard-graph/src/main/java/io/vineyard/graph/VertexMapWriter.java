package io.vineyard.graph;

import io.vineyard.client.BlobWriter;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.types.DType;
import io.vineyard.client.types.Hashmap;
import io.vineyard.client.types.HashmapBuilder;
import io.vineyard.client.types.StringViewHashmap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Writes {@code vineyard::ArrowVertexMap<OID,uint64>} as {@code ArrowVertexMap::addNewVertexLabels} does:
 * per fragment and label the inner vertices' ids in lid order ({@code oid_arrays_<f>_<l>}) and the id to
 * gid map ({@code o2g_<f>_<l>}, a {@code vineyard::Hashmap} built by ska's algorithm from the ids in lid
 * order after a {@code reserve(n)}, as the C++ builder does; for string ids its keys are views into the oid
 * array's bytes, {@link StringViewHashmap}).
 */
public final class VertexMapWriter {
    private VertexMapWriter() {
    }

    /** The builder input: a planned graph. */
    record Draft(GraphPlan plan) {
    }

    /** Builds {@link Draft}s (build only: the vertex map is read through its fragments). */
    public static final class DraftType extends BuildOnlyType<Draft> {
        /** Service constructor. */
        public DraftType() {
            super(Draft.class);
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Draft d) {
            return write(ctx, d.plan());
        }
    }

    static ObjectMeta write(BuildContext ctx, GraphPlan plan) {
        ObjectMeta m = new ObjectMeta(FragmentDescriptor.vertexMapTypename(plan.stringIds));
        m.put("fnum", (long) plan.fnum);
        m.put("label_num", (long) plan.vertexLabelNum());
        m.put("use_perfect_hash_", false);
        long nbytes = 0;
        for (int f = 0; f < plan.fnum; f++) {
            for (GraphPlan.VertexLabel v : plan.vertices) {
                int[] rows = v.innerRows[f];
                ObjectMeta oids;
                ObjectMeta o2g;
                if (plan.stringIds) {
                    StringColumn c = stringArray(ctx, v, rows);
                    oids = c.meta();
                    // the keys are views into the oid array's bytes, as AssociateDataBuffer makes them
                    StringViewHashmap.Builder b = StringViewHashmap.builder(c.data().segment(), c.data().segment().address())
                            .reserve(rows.length);
                    for (int k = 0; k < rows.length; k++) {
                        b.put(c.offsets()[k], c.offsets()[k + 1] - c.offsets()[k], plan.parser.gid(f, v.id, k));
                    }
                    o2g = ctx.build(b.build(c.data().member()));
                } else {
                    oids = int64Array(ctx, v, rows);
                    HashmapBuilder b = Hashmap.builder(DType.INT64, DType.UINT64).reserve(rows.length);
                    for (int k = 0; k < rows.length; k++) {
                        b.put(v.intIds[rows[k]], plan.parser.gid(f, v.id, k));
                    }
                    o2g = ctx.build(b.build());
                }
                nbytes += oids.nbytes() + o2g.nbytes();
                m.addMember(FragmentDescriptor.vertexMapKey("oid_arrays_", f, v.id), oids);
                m.addMember(FragmentDescriptor.vertexMapKey("o2g_", f, v.id), o2g);
            }
        }
        m.setNbytes(nbytes);
        return m;
    }

    private static ObjectMeta int64Array(BuildContext ctx, GraphPlan.VertexLabel v, int[] rows) {
        Slot s = Slot.of(ctx, 8L * rows.length);
        for (int k = 0; k < rows.length; k++) {
            s.segment().setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, k, v.intIds[rows[k]]);
        }
        return ArrayMetas.numeric(ctx, "vineyard::NumericArray<int64>", rows.length, s);
    }

    /** A written string oid array: its metadata, its data blob and the offsets of its strings. */
    private record StringColumn(ObjectMeta meta, Slot data, long[] offsets) {
    }

    private static StringColumn stringArray(BuildContext ctx, GraphPlan.VertexLabel v, int[] rows) {
        byte[][] bytes = new byte[rows.length][];
        long total = 0;
        for (int k = 0; k < rows.length; k++) {
            bytes[k] = v.strIds.get(rows[k]).getBytes(StandardCharsets.UTF_8);
            total += bytes[k].length;
        }
        Slot offsets = Slot.of(ctx, 8L * (rows.length + 1));
        Slot data = Slot.of(ctx, total);
        long[] at = new long[rows.length + 1];
        for (int k = 0; k < rows.length; k++) {
            MemorySegment.copy(MemorySegment.ofArray(bytes[k]), 0, data.segment(), at[k], bytes[k].length);
            at[k + 1] = at[k] + bytes[k].length;
        }
        MemorySegment.copy(MemorySegment.ofArray(at), 0, offsets.segment(), 0, 8L * at.length);
        ObjectMeta m = new ObjectMeta(ArrayMetas.LARGE_STRING);
        m.put("length_", (long) rows.length);
        m.put("null_count_", 0L);
        m.put("offset_", 0L);
        m.addMember("buffer_offsets_", offsets.member());
        m.addMember("buffer_data_", data.member());
        m.addMember("null_bitmap_", Slot.of(ctx, 0).member());
        m.setNbytes(8L * (rows.length + 1) + total);
        return new StringColumn(m, data, at);
    }

    /** A blob being written for a member: its bytes (writable until the put) and its entry. */
    record Slot(MemorySegment segment, ObjectMeta member) {
        static Slot of(BuildContext ctx, long bytes) {
            if (bytes == 0) {
                return new Slot(MemorySegment.NULL, ctx.blobOf(MemorySegment.NULL));
            }
            BlobWriter w = ctx.createBlob(bytes);
            return new Slot(w.segment(), w.asMember());
        }
    }
}
