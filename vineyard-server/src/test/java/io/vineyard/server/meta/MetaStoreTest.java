package io.vineyard.server.meta;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.server.memory.SharedMemoryPool;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobLinks;
import io.vineyard.server.store.BlobStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** vineyard's deletion rules (spec 2.7) on the metadata store alone: no daemon, no sockets. */
class MetaStoreTest {
    private final SharedMemoryPool pool = SharedMemoryPool.create(4 << 20, false);
    private final ObjectIds ids = new ObjectIds(0, System::currentTimeMillis);
    private final BlobStore blobs = new BlobStore(pool, ids);
    private final MetaStore meta = new MetaStore(blobs, ids, 0, System::currentTimeMillis);
    private final BlobLinks writer = new BlobLinks(1);

    @AfterEach
    void tearDown() {
        blobs.disconnect(writer);
        pool.close();
    }

    private long blob() {
        Blob b = blobs.create(64, writer);
        blobs.seal(b.id(), writer);
        blobs.releaseIfHeld(b.id(), writer);
        return b.id();
    }

    /** An object whose members are the given ids (blobs or objects). */
    private long object(long... members) {
        ObjectNode content = Json.object();
        content.put("typename", "T");
        for (int i = 0; i < members.length; i++) {
            ObjectNode m = content.putObject("m" + i);
            m.put("id", ObjectIds.toText(members[i]));
            if (ObjectIds.isBlob(members[i])) {
                m.put("typename", "vineyard::Blob");
            }
        }
        return meta.create(content).id();
    }

    private List<Long> delete(boolean force, boolean deep, long... targets) {
        return meta.delete(targets, force, deep, null, false);
    }

    @Test
    void aShallowDeleteKeepsObjectMembersButTakesTheBlobsOnlyItHeld() {
        long b1 = blob();
        long b2 = blob();
        long child = object(b1);
        long parent = object(child, b2);
        assertEquals(List.of(b2), delete(false, false, parent));
        assertFalse(meta.exists(parent));
        assertTrue(meta.exists(child), "object members stay without deep");
        assertTrue(blobs.exists(b1));
        assertFalse(blobs.exists(b2), "a blob goes with its last parent");
        delete(false, true, child);
    }

    @Test
    void aDeepDeleteTakesTheWholeTree() {
        long b1 = blob();
        long child = object(b1);
        long parent = object(child);
        assertEquals(List.of(b1), delete(false, true, parent));
        assertFalse(meta.exists(child));
        assertFalse(blobs.exists(b1));
        assertEquals(0, blobs.usageBytes());
    }

    @Test
    void aSharedMemberSurvivesTheDeleteOfOneParent() {
        long b = blob();
        long shared = object(b);
        long p1 = object(shared);
        long p2 = object(shared);
        assertEquals(List.of(), delete(false, true, p1));
        assertTrue(meta.exists(shared), "still a member of p2");
        assertTrue(blobs.exists(b));
        assertEquals(List.of(b), delete(false, true, p2));
        assertFalse(meta.exists(shared));
    }

    @Test
    void aMemberWithParentsIsDeletedOnlyWithForceWhichTakesTheParentsToo() {
        long b = blob();
        long child = object(b);
        long parent = object(child);
        assertEquals(List.of(), delete(false, true, child));
        assertTrue(meta.exists(child), "kept: its parent still uses it");
        assertEquals(List.of(b), delete(true, true, child));
        assertFalse(meta.exists(child));
        assertFalse(meta.exists(parent), "force deletes the parents too");
    }

    @Test
    void aBlobSharedByTwoObjectsGoesWithTheLastOne() {
        long b = blob();
        long one = object(b);
        long two = object(b);
        assertEquals(List.of(), delete(false, true, one));
        assertTrue(blobs.exists(b));
        assertEquals(List.of(b), delete(false, true, two));
        assertFalse(blobs.exists(b));
    }

    @Test
    void namesOfADeletedObjectAreDropped() {
        ObjectNode content = Json.object();
        content.put("typename", "T");
        content.put("transient", false);
        long id = meta.create(content).id();
        meta.putName(id, "n");
        delete(false, true, id);
        assertEquals(null, meta.getName("n"));
    }
}
