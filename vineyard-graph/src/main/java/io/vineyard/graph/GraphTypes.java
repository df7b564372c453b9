package io.vineyard.graph;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.ResolveContext;
import io.vineyard.client.registry.VineyardType;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The resolvers of {@code vineyard::ArrowFragment<...>} and {@code vineyard::ArrowFragmentGroup}. */
public final class GraphTypes {
    private GraphTypes() {
    }

    /** {@code vineyard::ArrowFragment<...>} as {@link ArrowFragment}. */
    public static final class FragmentType implements VineyardType<ArrowFragment> {
        /** Service constructor. */
        public FragmentType() {
        }

        @Override
        public Class<ArrowFragment> javaType() {
            return ArrowFragment.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of(FragmentDescriptor.FRAGMENT_PREFIX);
        }

        @Override
        public ArrowFragment resolve(ResolveContext ctx, ObjectMeta m) {
            return new ArrowFragment(ctx, m);
        }
    }

    /** {@code vineyard::ArrowFragmentGroup} as {@link FragmentGroup} (the fragments on the client's instance). */
    public static final class GroupType implements VineyardType<FragmentGroup> {
        /** Service constructor. */
        public GroupType() {
        }

        @Override
        public Class<FragmentGroup> javaType() {
            return FragmentGroup.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of(FragmentDescriptor.GROUP);
        }

        /** Resolves the fragments on the client's instance; the others are known by their metadata only. */
        @Override
        public FragmentGroup resolve(ResolveContext ctx, ObjectMeta m) {
            int n = Math.toIntExact(m.getLong("total_frag_num"));
            ArrowFragment[] byFid = new ArrowFragment[n];
            long[] locations = new long[n];
            ObjectMeta[] metas = new ObjectMeta[n];
            long here = ctx.client().instanceId();
            List<ArrowFragment> resolved = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    int fid = Math.toIntExact(m.getLong("fid_" + i));
                    if (fid < 0 || fid >= n || metas[fid] != null) {
                        throw new VineyardException(Status.META_TREE_INVALID, m.what() + ": fid_" + i + " = " + fid
                                + " is out of range or given twice (total_frag_num " + n + ")");
                    }
                    metas[fid] = m.member("frag_object_id_" + i);
                    locations[fid] = m.getLong("frag_instance_id_" + i);
                    if (locations[fid] == here) {
                        ArrowFragment f = ctx.resolve(metas[fid], ArrowFragment.class);
                        resolved.add(f);
                        byFid[fid] = f;
                    }
                }
            } catch (RuntimeException e) {
                resolved.forEach(ArrowFragment::close);
                throw e;
            }
            return new FragmentGroup(m.id(), Arrays.asList(byFid), List.of(metas), locations, here);
        }
    }
}
