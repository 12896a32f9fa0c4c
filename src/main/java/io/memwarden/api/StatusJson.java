package io.memwarden.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.memwarden.loops.NodeStatus;
import java.util.List;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** The {@code /status} document: the node status with each container's plan, and the newest loop actions. */
final class StatusJson {
    private StatusJson() {}

    /** How many of the newest actions {@code /status} lists (the metrics count all of them). */
    static final int RECENT_ACTIONS = 100;

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .changeDefaultPropertyInclusion(i -> i.withValueInclusion(JsonInclude.Include.NON_NULL))
            .build();

    record Document(long atMillis, NodeStatus.Node node, List<NodeStatus.Container> containers, long actionsTotal,
                    List<NodeStatus.LoopAction> recentActions, NodeStatus.OomKills oomKills) {}

    static byte[] render(NodeStatus s) {
        List<NodeStatus.LoopAction> a = s.actions();
        return JSON.writeValueAsBytes(new Document(s.atMillis(), s.node(), s.containers(), s.actionsDropped() + a.size(),
                a.subList(Math.max(0, a.size() - RECENT_ACTIONS), a.size()), s.oomKills()));
    }
}
