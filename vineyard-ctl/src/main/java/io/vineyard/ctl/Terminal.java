package io.vineyard.ctl;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Whether a standard stream is a terminal ({@code isatty(3)}: the JDK's {@code Console} only looks at stdin/stdout). */
final class Terminal {
    private static final MethodHandle ISATTY = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("isatty").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private Terminal() {
    }

    /** True when stderr (fd 2) is a terminal. */
    static boolean stderrIsTerminal() {
        try {
            return (int) ISATTY.invokeExact(2) == 1;
        } catch (Throwable t) {
            return false;
        }
    }
}
