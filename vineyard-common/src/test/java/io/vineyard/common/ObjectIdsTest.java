package io.vineyard.common;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ObjectIdsTest {
    @Test
    void idsStayUniqueWhenMoreThan4096AreTakenInOneMillisecond() {
        ObjectIds ids = new ObjectIds(3, () -> 1_000_000L); // a frozen clock
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 20_000; i++) {
            long id = i % 2 == 0 ? ids.nextObjectId() : ids.nextBlobId();
            assertTrue(seen.add(id & 0x7FFFFFFFFFFFFFFFL), "duplicate id at " + i);
            assertEquals(3, (id >>> 12) & 0x3FF, "instance bits kept");
        }
    }

    @Test
    void blobBitAndTextForms() {
        ObjectIds ids = new ObjectIds(0, System::currentTimeMillis);
        long blob = ids.nextBlobId();
        long object = ids.nextObjectId();
        assertTrue(ObjectIds.isBlob(blob));
        assertFalse(ObjectIds.isBlob(object));
        assertEquals("o8000000000000000", ObjectIds.toText(ObjectIds.EMPTY_BLOB_ID));
        assertEquals(blob, ObjectIds.parseText(ObjectIds.toText(blob)));
        assertEquals(0x1234L, ObjectIds.parseText("s0000000000001234"));
    }
}
