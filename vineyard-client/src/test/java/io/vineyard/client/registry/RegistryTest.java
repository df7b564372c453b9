package io.vineyard.client.registry;

import io.vineyard.client.types.Tensor;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** ServiceLoader discovery, longest-prefix resolution, builder lookup along the class hierarchy. */
class RegistryTest {
    private record Named(String prefix) implements VineyardType<Object> {
        @Override
        public Class<Object> javaType() {
            return Object.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of(prefix);
        }
    }

    @Test
    void longestPrefixWins() {
        Named shortOne = new Named("vineyard::");
        Named tensor = new Named("vineyard::Tensor");
        Registry r = new Registry().register(tensor).register(shortOne);
        assertSame(tensor, r.resolverFor("vineyard::Tensor<double>", Object.class));
        assertSame(shortOne, r.resolverFor("vineyard::DataFrame", Object.class));
        assertThrows(VineyardException.class, () -> r.resolverFor("other::Thing", Object.class));
    }

    @Test
    void aTypeRegisteredAfterALookupIsSeenByTheNextOne() {
        Named shortOne = new Named("vineyard::");
        Registry r = new Registry().register(shortOne);
        assertSame(shortOne, r.resolverFor("vineyard::Tensor<double>", Object.class));
        assertSame(shortOne, r.resolverFor("vineyard::Tensor<double>", Object.class), "asked again: the same answer");
        Named tensor = new Named("vineyard::Tensor");
        r.register(tensor);
        assertSame(tensor, r.resolverFor("vineyard::Tensor<double>", Object.class), "not the answer from before the register");
    }

    @Test
    void aFailedLookupNamesWhatTheTypenameCanBeReadAs() {
        Registry r = new Registry().register(new Named("vineyard::Tensor"));
        VineyardException e = assertThrows(VineyardException.class, () -> r.resolverFor("vineyard::Tensor<double>", Thread.class));
        assertEquals("no resolver reads a vineyard::Tensor<double> as Thread (it can be read as Object)", e.getMessage());
    }

    @Test
    void serviceEntriesAreFound() {
        Registry global = Registry.global();
        assertEquals(PointType.class, global.resolverFor("my::Point", PointType.Point.class).getClass());
        assertEquals(Tensor.class, global.resolverFor("vineyard::Tensor<int64_t>", Tensor.class).javaType());
        assertEquals(Number.class, global.builderFor(Long.class).javaType(), "Long is built by the Number type");
        assertThrows(VineyardException.class, () -> global.builderFor(Thread.class));
    }
}
