package io.vineyard.server.daemon;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WaitsTest {
    @Test
    void aChangeQueuesOnlyTheWaitersOfItsKey() {
        Waits waits = new Waits();
        Waits.Waiter onA = waits.register(List.of(new Waits.Name("a")));
        Waits.Waiter onB = waits.register(List.of(new Waits.Name("b")));
        Waits.Waiter onObject = waits.register(List.of(new Waits.ObjectId(7), new Waits.Name("a")));
        assertEquals(3, waits.size());

        waits.nameBound("a");
        List<Waits.Waiter> queued = waits.drainQueued();
        assertEquals(List.of(onA, onObject), queued);
        assertTrue(onA.consumeSignal());
        assertFalse(onB.consumeSignal(), "a change of another key leaves a waiter alone");
        assertTrue(waits.drainQueued().isEmpty(), "draining empties the queue");

        waits.objectCreated(8);
        assertTrue(waits.drainQueued().isEmpty(), "nobody waits for object 8");
        waits.objectCreated(7);
        assertEquals(List.of(onObject), waits.drainQueued());
    }

    @Test
    void cancelRemovesAWaiterFromEveryKeyOnce() {
        Waits waits = new Waits();
        Waits.Waiter w = waits.register(List.of(new Waits.ObjectId(1), new Waits.ObjectId(2)));
        waits.cancel(w);
        waits.cancel(w);
        assertEquals(0, waits.size());
        waits.objectCreated(1);
        assertTrue(waits.drainQueued().isEmpty());
    }
}
