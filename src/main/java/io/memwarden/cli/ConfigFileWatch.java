package io.memwarden.cli;

import io.memwarden.input.InputException;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.policy.WardenConfig;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads memwarden's config file when it changes (inotify through {@link WatchService}, on the file's
 * directory so editors' rename-over and ConfigMap symlink swaps are seen) and hands a valid new config on. An
 * invalid file is logged and ignored: the previous config stays in force.
 */
final class ConfigFileWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigFileWatch.class);

    private final WatchService watch;

    private ConfigFileWatch(WatchService watch) {
        this.watch = watch;
    }

    static ConfigFileWatch start(Path file, Consumer<WardenConfig> onChange) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        WatchService ws = dir.getFileSystem().newWatchService();
        dir.register(ws, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_CREATE);
        Thread.ofVirtual().name("memwarden-config-watch").start(() -> {
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
                    try {
                        WardenConfig cfg = WardenConfigReader.read(abs);
                        LOG.info("config file {} changed: applying it", abs);
                        onChange.accept(cfg);
                    } catch (InputException e) {
                        LOG.error("config file changed but is invalid, keeping the previous config: {}", e.getMessage());
                    }
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                // closed
            }
        });
        return new ConfigFileWatch(ws);
    }

    @Override
    public void close() throws IOException {
        watch.close();
    }
}
