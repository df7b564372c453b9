package io.vineyard.graph;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.ResolveContext;
import io.vineyard.client.registry.VineyardType;

import java.util.ArrayList;
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

    /** {@code vineyard::ArrowFragmentGroup} as {@link FragmentGroup} (its fragments on this daemon). */
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

        @Override
        public FragmentGroup resolve(ResolveContext ctx, ObjectMeta m) {
            int n = Math.toIntExact(m.getLong("total_frag_num"));
            ArrowFragment[] byFid = new ArrowFragment[n];
            List<ArrowFragment> resolved = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    ArrowFragment f = ctx.resolve(m.member("frag_object_id_" + i), ArrowFragment.class);
                    resolved.add(f);
                    byFid[Math.toIntExact(m.getLong("fid_" + i))] = f;
                }
            } catch (RuntimeException e) {
                resolved.forEach(ArrowFragment::close);
                throw e;
            }
            return new FragmentGroup(List.of(byFid));
        }
    }
}
