package io.vineyard.client;

import io.vineyard.client.types.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fresh pool memory prepared in bulk: a large value put with each {@link Prefault} option and with
 * several copy threads reads back exactly; the populator maps each 2 MiB chunk once per client.
 */
class FreshMemoryTest {
    private static final long MIB = 1L << 20;

    @ParameterizedTest
    @EnumSource(Prefault.class)
    void aLargeValueRoundTripsWithEveryPrefaultOption(Prefault prefault) throws Exception {
        int n = 5_000_001;   // 40 MB and a bit: split across threads, the last part shorter
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = i * 0.25;
        }
        try (DaemonProcess d = DaemonProcess.start("--size=256Mi");
             IpcClient client = IpcClient.builder().socket(d.socket()).prefault(prefault).copyThreads(3).connect()) {
            ObjectId id = client.put(Tensor.of(values));
            try (Tensor t = client.get(id, Tensor.class)) {
                double[] back = new double[n];
                for (int i = 0; i < n; i++) {
                    back[i] = t.getDouble(i);
                }
                assertArrayEquals(values, back, "every part copied to its place");
            }
            BlobWriter w = client.createBlob(8 * MIB);   // a writer for user code: populated whole
            w.segment().fill((byte) 5);
            try (Blob b = w.seal()) {
                assertEquals(5, b.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 8 * MIB - 1));
            }
            client.delete(id);
        }
    }

    @Test
    void eachChunkIsPopulatedOncePerClient() {
        PagePopulator p = new PagePopulator();
        long chunk = PagePopulator.CHUNK_BYTES;
        long end = 3 * chunk + chunk / 2;
        List<long[]> first = p.claim(7, chunk / 2, end);   // [start, end): half of chunk 0, chunks 1 and 2, half of 3
        assertEquals(1, first.size());
        assertArrayEquals(new long[] {chunk / 2, 3 * chunk + chunk / 2}, first.get(0));
        List<long[]> again = p.claim(7, chunk / 2, end);
        assertEquals(2, again.size(), "only the partial chunks at the edges again");
        assertArrayEquals(new long[] {chunk / 2, chunk}, again.get(0));
        assertArrayEquals(new long[] {3 * chunk, 3 * chunk + chunk / 2}, again.get(1));
        assertTrue(p.claim(7, chunk, 3 * chunk).isEmpty(), "whole chunks populated before: nothing to do");
        assertEquals(1, p.claim(8, chunk, 3 * chunk).size(), "another store file has its own chunks");
    }
}
