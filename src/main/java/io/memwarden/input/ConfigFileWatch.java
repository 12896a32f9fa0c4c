package io.memwarden.input;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads a config file when it changes (the agent's, `memwarden nri`'s) and hands on a valid new config; an invalid
 * one goes to {@code onInvalid} with the reader's message (naming the field and value) and the previous config stays. Watches
 * the file's directory (inotify via {@link WatchService}) so editors' rename-over and Kubernetes ConfigMap symlink
 * swaps ({@code ..data}) are seen; a change that leaves the content as it was is ignored.
 */
public final class ConfigFileWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigFileWatch.class);

    /** Reads and validates the file. */
    @FunctionalInterface
    public interface Reader<T> {
        T read(Path file) throws InputException;
    }

    private final WatchService watch;

    private ConfigFileWatch(WatchService watch) {
        this.watch = watch;
    }

    public static <T> ConfigFileWatch start(Path file, Reader<T> reader, Consumer<T> onChange,
                                            Consumer<String> onInvalid) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        WatchService ws = dir.getFileSystem().newWatchService();
        dir.register(ws, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_CREATE);
        String[] last = {read(abs)};
        Thread.ofPlatform().daemon().name("memwarden-config-watch").start(() -> {
            try {
                while (true) {
                    WatchKey key = ws.take();
                    boolean ours = key.pollEvents().stream().anyMatch(e -> e.context() instanceof Path p
                            && (p.equals(abs.getFileName()) || p.toString().startsWith("..")));
                    key.reset();
                    if (!ours) {
                        continue;
                    }
                    Thread.sleep(100); // let the writer finish; coalesce bursts of events
                    while (ws.poll() instanceof WatchKey more) {
                        more.pollEvents();
                        more.reset();
                    }
                    String text = read(abs);
                    if (text != null && text.equals(last[0])) {
                        continue;
                    }
                    last[0] = text;
                    try {
                        T cfg = reader.read(abs);
                        LOG.info("config file {} changed: applying it", abs);
                        onChange.accept(cfg);
                    } catch (InputException e) {
                        onInvalid.accept(e.getMessage());
                    } catch (RuntimeException e) {
                        LOG.error("config file {} could not be read", abs, e);
                        onInvalid.accept(abs + ": could not be read (an internal error of memwarden; its log has the"
                                + " details)");
                    }
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                // closed
            }
        });
        return new ConfigFileWatch(ws);
    }

    /**
     * What the file holds, to tell a change: its text, or for a file over the input size limit only its size and
     * time (never read into memory: the reader then refuses it with the limit's message).
     */
    private static String read(Path p) {
        try {
            long size = Files.size(p);
            if (size > YamlDocs.maxInputBytes()) {
                return "\0too large: " + size + " bytes, modified " + Files.getLastModifiedTime(p);
            }
            byte[] b = p.toFile().isFile() ? Files.readAllBytes(p) : null;
            return b == null || b.length > YamlDocs.maxInputBytes() ? "\0not a readable file of at most the limit"
                    : new String(b, StandardCharsets.ISO_8859_1);
        } catch (IOException | OutOfMemoryError e) {
            return null;
        }
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
