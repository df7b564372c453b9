package io.vineyard.ctl;

import io.vineyard.client.ObjectId;
import io.vineyard.io.VineyardIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code read}, {@code write}, {@code serialize}, {@code deserialize}: vineyard-io's four operations
 * ({@link VineyardIO}) from the shell, with vineyard's option names as {@code -o KEY=VALUE} and S3's
 * {@code storage_options} as {@code --storage KEY=VALUE}. Long transfers draw a line with bytes and rows
 * per second on stderr when it is a terminal.
 */
final class IoCommands {
    private IoCommands() {
    }

    /** What the four verbs share: the options and the progress line. */
    abstract static class IoVerb extends Verb {
        @Option(names = {"-o", "--option"}, paramLabel = "KEY=VALUE",
                description = "an option with vineyard's name: format, delimiter, header_row, schema, include_all_columns, "
                        + "column_types, null_values, block_size, batch_rows, compression (repeatable)")
        Map<String, String> options = new LinkedHashMap<>();

        @Option(names = "--storage", paramLabel = "KEY=VALUE",
                description = "a storage option (S3: key, secret, endpoint_url, region; repeatable)")
        Map<String, String> storage = new LinkedHashMap<>();

        Map<String, Object> all() {
            Map<String, Object> all = new LinkedHashMap<>(options);
            if (!storage.isEmpty()) {
                all.put("storage_options", storage);
            }
            return all;
        }

        Progress bar(String label) {
            return Progress.on(err(), label, 0, Terminal.stderrIsTerminal());
        }
    }

    @Command(name = "read", mixinStandardHelpOptions = true, header = "Read a CSV, Parquet or ORC file into a table.",
            description = {"Read a file, a directory or a glob of them (local, file://, s3:// or hdfs://) into a new",
                    "vineyard::Table (Python: client.get(id) gives a pyarrow Table), or with -o chunks=file a",
                    "GlobalDataFrame of a Table per file. Prints its id."})
    static final class Read extends IoVerb {
        @Parameters(index = "0", paramLabel = "URI", description = "the file, directory, glob or s3:// object")
        String uri;

        @Option(names = "--name", paramLabel = "NAME", description = "persist the table and name it NAME")
        String name;

        @Override
        int run(Session session) {
            Map<String, Object> o = all();
            if (name != null) {
                o.put("name", name);
            }
            ObjectId id;
            try (Progress p = bar("read " + uri)) {
                id = VineyardIO.read(session.client(), uri, o, p::updateRates);
            }
            out().println(id);
            return ExitCode.OK;
        }
    }

    /** A verb from one object to one target. */
    abstract static class ObjectToTarget extends IoVerb {
        @Parameters(index = "0", paramLabel = "ID|NAME", converter = GetCommand.RefConverter.class, description = "the object")
        ObjectRef ref;

        @Parameters(index = "1", paramLabel = "TARGET", description = "the file, s3:// prefix or directory to write")
        String target;
    }

    @Command(name = "write", mixinStandardHelpOptions = true, header = "Write a table to a CSV, Parquet or ORC file.",
            description = {"Write a vineyard::Table or RecordBatch to a file (format from -o format= or the",
                    "extension), written beside it and renamed over it; an s3:// prefix gets part-N files."})
    static final class Write extends ObjectToTarget {
        @Override
        int run(Session session) {
            VineyardIO.write(session.client(), session.resolve(ref), target, all());
            return ExitCode.OK;
        }
    }

    @Command(name = "serialize", mixinStandardHelpOptions = true, header = "Write any object tree to a directory.",
            description = {"Write an object, its members and blobs to the new or empty directory TARGET in",
                    "vineyard's layout (1-0/metadata.json, .../blob, .../blob.meta.json; zstd unless -o compression=none)."})
    static final class Serialize extends ObjectToTarget {
        @Override
        int run(Session session) {
            try (Progress p = bar("serialize " + ref)) {
                VineyardIO.serialize(session.client(), session.resolve(ref), target, all(), p::updateRates);
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "deserialize", mixinStandardHelpOptions = true, header = "Recreate a serialized object tree.",
            description = {"Recreate the object tree serialized to DIR (by serialize, the SDKs or vineyard's",
                    "serializer), all or nothing. Prints the new, persistent root's id."})
    static final class Deserialize extends IoVerb {
        @Parameters(index = "0", paramLabel = "DIR", description = "the serialized directory")
        String dir;

        @Override
        int run(Session session) {
            ObjectId id;
            try (Progress p = bar("deserialize " + dir)) {
                id = VineyardIO.deserialize(session.client(), dir, all(), p::updateRates);
            }
            out().println(id);
            return ExitCode.OK;
        }
    }
}
