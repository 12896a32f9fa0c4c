package io.memwarden.kernel;

import java.io.IOException;
import java.util.List;

/** A live kernel log: {@link Kmsg} on the machine; tests give the OOM watch their own. */
public interface KmsgSource extends AutoCloseable {
    /** The entries available now (may be empty). */
    List<KmsgEntry> drain() throws IOException;

    /** Waits up to {@code timeoutMillis} for new entries; true when there may be some. */
    boolean await(int timeoutMillis) throws IOException;

    /** What to call it in messages, e.g. {@code /dev/kmsg}. */
    String name();

    @Override
    void close();
}
