package io.memwarden.cli;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.HostProbe;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.NodeFactsReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.model.NodeFacts;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.io.IOException;
import java.nio.file.Path;

/** Shared wiring: node facts from a file or from the host ("auto"), configs, and a planner. */
final class NodeSource {
    private NodeSource() {}

    static HostFacts host() throws InputException {
        try {
            HostFacts h = HostProbe.probe();
            if (h.memoryController() == null) {
                throw new InputException("this host has no cgroup memory controller (checked /proc/self/mountinfo)");
            }
            return h;
        } catch (IOException e) {
            throw new InputException("cannot detect the host: " + e.getMessage(), e);
        }
    }

    /** This node's name in Kubernetes: the flag, else $NODE_NAME, else the host name. */
    static String nodeName(String flag) throws InputException {
        String n = flag;
        if (n == null || n.isBlank()) {
            n = System.getenv("NODE_NAME");
        }
        if (n == null || n.isBlank()) {
            try {
                n = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                throw new InputException("cannot tell this node's name (set --node-name or NODE_NAME)", e);
            }
        }
        return n;
    }

    static NodeFacts node(String node, HostFacts host) throws InputException {
        if (node == null || node.equals("auto")) {
            return host.toNodeFacts();
        }
        return NodeFactsReader.read(Path.of(node));
    }

    static Planner planner(NodeFacts node, Path kubeletConfig, Path config) throws InputException {
        KubeletSettings k = kubeletConfig == null ? KubeletSettings.DEFAULTS : KubeletConfigReader.read(kubeletConfig);
        WardenConfig cfg = config == null ? WardenConfig.DEFAULTS : WardenConfigReader.read(config);
        try {
            return new Planner(node, k, cfg);
        } catch (IllegalArgumentException e) {
            throw new InputException((kubeletConfig != null ? kubeletConfig + ": " : "") + e.getMessage(), e);
        }
    }
}
