package io.vineyard.server.cluster;

import io.etcd.jetcd.common.exception.EtcdExceptionFactory;
import io.grpc.Status;
import io.vineyard.server.meta.MetaOp;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rules by which concurrent changes share an etcd transaction (the real etcd path: ClusterTest). */
class GroupCommitTest {
    private static GroupCommit.Pending change(MetaOp... ops) {
        return new GroupCommit.Pending(List.of(ops), new CompletableFuture<>());
    }

    private static ArrayDeque<GroupCommit.Pending> queue(GroupCommit.Pending... p) {
        return new ArrayDeque<>(List.of(p));
    }

    @Test
    void changesOnDifferentKeysShareOneTransactionInOrder() {
        GroupCommit.Pending a = change(MetaOp.put("/data/o1", "{}"), MetaOp.put("/names/x", "1"));
        GroupCommit.Pending b = change(MetaOp.put("/data/o2", "{}"));
        GroupCommit.Pending c = change(MetaOp.deleteTree("/data/o3"));
        ArrayDeque<GroupCommit.Pending> q = queue(a, b, c);
        assertEquals(List.of(a, b, c), GroupCommit.take(q, 127));
        assertTrue(q.isEmpty());
    }

    @Test
    void aChangeTouchingAKeyOfTheBatchEndsItAndKeepsTheOrder() {
        GroupCommit.Pending a = change(MetaOp.put("/names/x", "1"));
        GroupCommit.Pending b = change(MetaOp.put("/data/o2", "{}"));
        GroupCommit.Pending sameKey = change(MetaOp.put("/names/x", "2"));
        GroupCommit.Pending after = change(MetaOp.put("/data/o9", "{}"));
        ArrayDeque<GroupCommit.Pending> q = queue(a, b, sameKey, after);
        assertEquals(List.of(a, b), GroupCommit.take(q, 127));
        assertEquals(List.of(sameKey, after), GroupCommit.take(q, 127), "the next batch starts with it, nothing jumps ahead");
    }

    @Test
    void aTreeDeleteOverlapsTheKeysUnderIt() {
        GroupCommit.Pending field = change(MetaOp.put("/data/o1/__name", "\"n\""));
        GroupCommit.Pending tree = change(MetaOp.deleteTree("/data/o1"));
        assertEquals(List.of(field), GroupCommit.take(queue(field, tree), 127));
        GroupCommit.Pending later = change(MetaOp.put("/data/o1/__labels", "{}"));
        assertEquals(List.of(tree), GroupCommit.take(queue(tree, later), 127));
        GroupCommit.Pending sibling = change(MetaOp.put("/data/o10", "{}"));   // shares the text prefix only
        assertEquals(List.of(tree, sibling), GroupCommit.take(queue(tree, sibling), 127));
    }

    @Test
    void aBatchStaysWithinTheTransactionLimitAndTheHeadAlwaysGoes() {
        GroupCommit.Pending two = change(MetaOp.deleteTree("/data/o1"));   // two etcd ops: the key and its range
        GroupCommit.Pending one = change(MetaOp.put("/data/o2", "{}"));
        assertEquals(2, GroupCommit.etcdOps(two.ops()));
        ArrayDeque<GroupCommit.Pending> q = queue(two, one);
        assertEquals(List.of(two), GroupCommit.take(q, 2));
        assertEquals(List.of(one), GroupCommit.take(q, 2));
        assertEquals(List.of(two), GroupCommit.take(queue(two), 1), "alone it goes, over the limit or not");
    }

    @Test
    void onlyARefusalForContentIsRetriedChangeByChange() {
        assertTrue(GroupCommit.refused(EtcdExceptionFactory.toEtcdException(
                Status.INVALID_ARGUMENT.withDescription("etcdserver: request is too large").asRuntimeException())));
        assertTrue(GroupCommit.refused(new java.util.concurrent.CompletionException(
                Status.INVALID_ARGUMENT.withDescription("etcdserver: duplicate key given in txn request").asRuntimeException())));
        assertFalse(GroupCommit.refused(Status.UNAVAILABLE.asRuntimeException()), "an outage fails them all at once");
        assertFalse(GroupCommit.refused(new java.util.concurrent.TimeoutException()));
    }
}
