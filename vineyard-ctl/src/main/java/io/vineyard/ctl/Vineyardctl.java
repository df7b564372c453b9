package io.vineyard.ctl;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * {@code vineyardctl}: vineyard's command-line verbs for one machine's daemon. Each verb is a picocli
 * subcommand ({@link Verb}); this class owns what every verb shares: the {@code --socket} option (also
 * accepted after the verb), the environment, and the mapping of failures to one line on stderr and an
 * {@link ExitCode}.
 *
 * <pre>
 * vineyardctl --socket /tmp/vineyard.sock ls objects --pattern 'vineyard::Tensor*'
 * vineyardctl put file data.bin --name data &amp;&amp; vineyardctl get file data copy.bin
 * </pre>
 */
@Command(name = "vineyardctl", mixinStandardHelpOptions = true, versionProvider = Vineyardctl.Version.class,
        description = "Inspect and manage the objects of a vineyardd on this machine.",
        subcommands = {LsCommand.class, GetCommand.class, PutCommand.class, DeleteCommand.class, StatCommand.class,
                StatCommand.ClusterInfo.class, NamesCommand.class, SpillCommands.Evict.class, SpillCommands.Load.class,
                SpillCommands.Unpin.class, SessionsCommand.class, IoCommands.Read.class, IoCommands.Write.class,
                IoCommands.Serialize.class, IoCommands.Deserialize.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "1:the daemon refused the request, or a local file failed",
                "2:usage error (unknown verb or flag, missing or malformed argument)",
                "3:cannot connect to the daemon", "4:no such object, name or blob"},
        footerHeading = "%nSocket:%n",
        footer = "--socket PATH, else $VINEYARD_IPC_SOCKET, else the daemon's default "
                + "($XDG_RUNTIME_DIR/vineyard/vineyard.sock, else ~/.local/vineyard/vineyard.sock).")
public final class Vineyardctl {
    @Option(names = "--socket", paramLabel = "PATH", scope = ScopeType.INHERIT,
            description = "the daemon's IPC socket (default: $VINEYARD_IPC_SOCKET, else the daemon's default socket)")
    String socket;

    private final Map<String, String> env;
    private final PrintStream rawOut;

    Vineyardctl(Map<String, String> env, PrintStream rawOut) {
        this.env = env;
        this.rawOut = rawOut;
    }

    /** Runs one command line and exits with its {@link ExitCode}. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.getenv()));
    }

    /** Runs one command line with the given streams and environment; returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        PrintWriter o = new PrintWriter(out, true, StandardCharsets.UTF_8);
        PrintWriter e = new PrintWriter(err, true, StandardCharsets.UTF_8);
        CommandLine cli = new CommandLine(new Vineyardctl(env, out))
                .setOut(o).setErr(e)
                .setExecutionExceptionHandler(Vineyardctl::onFailure)
                .setParameterExceptionHandler(Vineyardctl::onUsageError);
        int code = cli.execute(args);
        o.flush();
        e.flush();
        return code;
    }

    /** Stdout as bytes (a file's contents written there); flush the verb's writer first. */
    PrintStream rawOut() {
        return rawOut;
    }

    /** The session of the socket this command line names. */
    Session session() {
        return new Session(Session.socketPath(socket, env));
    }

    private static int onUsageError(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + ex.getMessage()
                + " (see " + cmd.getCommandSpec().qualifiedName() + " --help)");
        return ExitCode.USAGE;
    }

    private static int onFailure(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        int code;
        String message;
        if (ex instanceof CtlException c) {
            code = c.exitCode();
            message = c.getMessage();
        } else if (ex instanceof VineyardException v) {
            code = exitCodeOf(v.status());
            message = v.getMessage();
        } else if (ex instanceof java.io.IOException || ex instanceof java.io.UncheckedIOException) {
            code = ExitCode.FAILED;
            message = ex.getMessage();
        } else {
            code = ExitCode.FAILED;
            message = ex.toString();
        }
        cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + oneLine(message));
        return code;
    }

    static int exitCodeOf(Status status) {
        return switch (status) {
            case OBJECT_NOT_EXISTS, META_TREE_NAME_NOT_EXISTS, META_TREE_SUBTREE_NOT_EXISTS, KEY_ERROR -> ExitCode.NOT_FOUND;
            case CONNECTION_FAILED, CONNECTION_ERROR -> ExitCode.CONNECTION;
            default -> ExitCode.FAILED;
        };
    }

    private static String oneLine(String message) {
        return message == null ? "failed" : message.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    /** The version of the jar (its manifest), else the build's. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Vineyardctl.class.getPackage().getImplementationVersion();
            return new String[] {"vineyardctl " + (v == null ? "0.1.0-SNAPSHOT" : v)
                    + " (vineyard-java; speaks vineyard 0.24.4's protocol)"};
        }
    }
}
