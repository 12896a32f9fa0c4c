package io.memwarden.api;

import io.memwarden.loops.NodeStatus;
import java.io.IOException;

/** Reads the node's current {@link NodeStatus}; called once per scrape and per status request, from any thread. */
@FunctionalInterface
public interface StatusSource {
    NodeStatus status() throws IOException;
}
