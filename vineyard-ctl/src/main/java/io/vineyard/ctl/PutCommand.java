package io.vineyard.ctl;

import io.vineyard.client.BlobWriter;
import io.vineyard.client.IpcClient;
import io.vineyard.client.meta.ObjectMeta;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** {@code put file}: a local file into the daemon's pool. */
@Command(name = "put", mixinStandardHelpOptions = true, description = "Store a local file in the daemon.",
        subcommands = {PutCommand.File.class})
final class PutCommand {
    /** The typename put file writes: the one our Python client writes for a numpy uint8 array. */
    static final String TYPENAME = "vineyard::Tensor<uint8_t>";

    @Command(name = "file", mixinStandardHelpOptions = true, header = "Store a local file as a uint8 Tensor.",
            description = {"Copy a local file into one blob and store it as a persistent",
                    TYPENAME + " of shape [size] (Python: client.get(...) gives a uint8 numpy array;",
                    "get file writes it back). Prints the new object's id. A progress bar is drawn",
                    "when stderr is a terminal."})
    static final class File extends Verb {
        @Parameters(index = "0", paramLabel = "PATH", description = "the file to read")
        Path path;

        @Option(names = "--name", paramLabel = "NAME", description = "also name the object NAME")
        String name;

        @Override
        int run(Session session) throws Exception {
            if (name != null && name.isEmpty()) {
                throw new CtlException(ExitCode.USAGE, "--name must not be empty", null);
            }
            long size;
            try {
                if (!Files.isRegularFile(path)) {
                    throw new CtlException(ExitCode.FAILED, "cannot read " + path + ": "
                            + (Files.exists(path) ? "not a regular file" : "no such file"), null);
                }
                size = Files.size(path);
            } catch (IOException e) {
                throw new CtlException(ExitCode.FAILED, "cannot read " + path + ": " + e, e);
            }
            IpcClient client = session.client();
            BlobWriter writer = client.createBlob(size);
            copyIn(writer.segment(), size);
            ObjectMeta meta = new ObjectMeta(TYPENAME)
                    .put("value_type_", "uint8")
                    .put("value_type_meta_", "|u1")
                    .putJson("shape_", List.of(size))
                    .putJson("partition_index_", List.of())
                    .putJson("order_", "C")
                    .put("nbytes", size)
                    .addMember("buffer_", writer.asMember());
            ObjectMeta stored = client.putMeta(meta, true, name);
            out().println(stored.id());
            return ExitCode.OK;
        }

        private void copyIn(MemorySegment target, long size) {
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
                 Progress bar = Progress.on(err(), "put " + path.getFileName(), size, Terminal.stderrIsTerminal())) {
                long done = 0;
                while (done < size) {
                    long n = Math.min(GetCommand.CHUNK_BYTES, size - done);
                    var buffer = target.asSlice(done, n).asByteBuffer();
                    while (buffer.hasRemaining()) {
                        if (ch.read(buffer, done + buffer.position()) < 0) {
                            throw new CtlException(ExitCode.FAILED, path + " shrank while it was read", null);
                        }
                    }
                    done += n;
                    bar.update(done);
                }
                bar.update(done);
            } catch (NoSuchFileException e) {
                throw new CtlException(ExitCode.FAILED, "cannot read " + path + ": no such file", e);
            } catch (IOException e) {
                throw new CtlException(ExitCode.FAILED, "cannot read " + path + ": " + e, e);
            }
        }
    }
}
