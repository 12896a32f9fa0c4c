package io.memwarden.vm;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;

/**
 * fabric8's mock Kubernetes API server (CRUD mode, plain HTTP on loopback) as a process, for the vm tier's agent
 * end-to-end run: {@code MockApiServer PORT NODE PODS.yaml OUT-DIR} creates the Node and the Pods (bound to the
 * node), writes {@code OUT-DIR/kubeconfig} and {@code OUT-DIR/uids} ("namespace/name uid" per pod, the uids the
 * server gave them), prints {@code ready}, and serves until its stdin closes or it is terminated. Test-only.
 */
public final class MockApiServer {
    private MockApiServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: MockApiServer PORT NODE PODS.yaml OUT-DIR");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        String node = args[1];
        Path podsFile = Path.of(args[2]);
        Path out = Path.of(args[3]);
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
                new KubernetesMixedDispatcher(responses), false);
        server.init(InetAddress.getByName("127.0.0.1"), port);
        Runtime.getRuntime().addShutdownHook(new Thread(server::destroy));
        List<String> uids = new ArrayList<>();
        // under TCG emulation a first request can outlast the client's timeout and be retried: create-or-update
        try (KubernetesClient c = server.createClient(b -> b.editOrNewConfig().withRequestTimeout(120_000)
                .withConnectionTimeout(60_000).endConfig()); InputStream in = Files.newInputStream(podsFile)) {
            c.nodes().resource(new NodeBuilder().withNewMetadata().withName(node)
                    .addToLabels("kubernetes.io/hostname", node).endMetadata().build())
                    .createOr(NonDeletingOperation::update);
            for (HasMetadata o : c.load(in).items()) {
                if (o instanceof Pod p) {
                    p.getSpec().setNodeName(node);
                    Pod created = c.pods().inNamespace(p.getMetadata().getNamespace()).resource(p)
                            .createOr(NonDeletingOperation::update);
                    uids.add(created.getMetadata().getNamespace() + "/" + created.getMetadata().getName() + " "
                            + created.getMetadata().getUid());
                }
            }
        }
        Files.write(out.resolve("uids"), uids);
        Files.writeString(out.resolve("kubeconfig"), """
                apiVersion: v1
                kind: Config
                clusters:
                - name: mock
                  cluster: {server: "http://127.0.0.1:%d"}
                users:
                - name: mock
                  user: {}
                contexts:
                - name: mock
                  context: {cluster: mock, user: mock, namespace: default}
                current-context: mock
                """.formatted(port));
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // serve until stdin closes
        }
        server.destroy();
    }
}
