package io.memwarden.input;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.UUID;

/**
 * A realistic {@code kubectl get pods -A -o yaml}: a {@code v1 List} of running pods in kubectl's block style, each
 * with labels, annotations (including a last-applied-configuration line), owner references, managedFields, a spec
 * with env, probes, volumes and mounts, and a full status. Deterministic for a seed. {@code main(FILE, PODS)} writes
 * one for measuring the CLI (docs/operations.md).
 */
public final class KubectlPodList {
    private KubectlPodList() {}

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        int pods = Integer.parseInt(args[1]);
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            write(w, pods, 42);
        }
        System.out.println(out + ": " + pods + " pods, " + Files.size(out) + " bytes");
    }

    public static String yaml(int pods, long seed) {
        java.io.StringWriter sw = new java.io.StringWriter(pods * 6000);
        try {
            write(sw, pods, seed);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return sw.toString();
    }

    /** The name of pod {@code i} ("namespace/name"), as {@link #write} gives it. */
    public static String key(int i) {
        return namespace(i) + "/" + name(i);
    }

    private static String namespace(int i) {
        return "team-" + (i % 40);
    }

    private static String name(int i) {
        return "shop-" + (i / 3) + "-" + Integer.toString(i * 7919 % 100000, 36) + "-x" + (i % 3);
    }

    static void write(Writer w, int pods, long seed) throws IOException {
        Random r = new Random(seed);
        w.write("apiVersion: v1\nitems:\n");
        for (int i = 0; i < pods; i++) {
            pod(w, r, i);
        }
        w.write("kind: List\nmetadata:\n  resourceVersion: \"\"\n");
    }

    private static String uid(Random r) {
        return new UUID(r.nextLong(), r.nextLong()).toString();
    }

    private static void pod(Writer w, Random r, int i) throws IOException {
        String ns = namespace(i);
        String name = name(i);
        String app = "shop-" + (i / 3);
        String rs = app + "-" + Integer.toString(i * 7919 % 100000, 36);
        int mem = 64 << r.nextInt(6);
        String limit = r.nextInt(4) == 0 ? "" : (mem * 2) + "Mi";
        String qos = "Burstable";
        String ip = "10.244." + (i / 250 % 256) + "." + (i % 250 + 2);
        String node = "node-" + (i % 97);
        String ts = "2026-11-" + String.format("%02d", 1 + i % 28) + "T0" + (i % 10) + ":1" + (i % 6) + ":2" + (i % 10) + "Z";
        String image = "registry.example.com/" + ns + "/" + app + ":v1." + (i % 17) + "." + (i % 5);
        String cid = "containerd://" + Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong())
                + Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
        w.write("- apiVersion: v1\n  kind: Pod\n  metadata:\n");
        w.write("    annotations:\n");
        w.write("      kubectl.kubernetes.io/restartedAt: \"" + ts + "\"\n");
        w.write("      prometheus.io/port: \"9102\"\n      prometheus.io/scrape: \"true\"\n");
        w.write("      kubectl.kubernetes.io/last-applied-configuration: '{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                + "\"metadata\":{\"annotations\":{},\"name\":\"" + app + "\",\"namespace\":\"" + ns + "\"},\"spec\":{\"replicas\":3,"
                + "\"selector\":{\"matchLabels\":{\"app\":\"" + app + "\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\""
                + app + "\"}},\"spec\":{\"containers\":[{\"image\":\"" + image + "\",\"name\":\"app\"}]}}}}'\n");
        w.write("    creationTimestamp: \"" + ts + "\"\n    generateName: " + rs + "-\n");
        w.write("    labels:\n      app: " + app + "\n      app.kubernetes.io/part-of: shop\n      pod-template-hash: "
                + Integer.toString(i * 7919 % 100000, 36) + "\n      tier: backend\n");
        w.write("    managedFields:\n");
        w.write("    - apiVersion: v1\n      fieldsType: FieldsV1\n      fieldsV1:\n");
        w.write("        f:metadata:\n          f:annotations:\n            .: {}\n            f:kubectl.kubernetes.io/restartedAt: {}\n"
                + "            f:prometheus.io/port: {}\n            f:prometheus.io/scrape: {}\n");
        w.write("          f:generateName: {}\n          f:labels:\n            .: {}\n            f:app: {}\n"
                + "            f:pod-template-hash: {}\n            f:tier: {}\n");
        w.write("          f:ownerReferences:\n            .: {}\n            k:{\"uid\":\"" + uid(r) + "\"}: {}\n");
        w.write("        f:spec:\n          f:containers:\n            k:{\"name\":\"app\"}:\n              .: {}\n"
                + "              f:env:\n                .: {}\n                k:{\"name\":\"LOG_LEVEL\"}:\n"
                + "                  .: {}\n                  f:name: {}\n                  f:value: {}\n"
                + "              f:image: {}\n              f:imagePullPolicy: {}\n              f:livenessProbe:\n"
                + "                .: {}\n                f:httpGet:\n                  .: {}\n                  f:path: {}\n"
                + "                  f:port: {}\n              f:name: {}\n              f:ports:\n                .: {}\n"
                + "                k:{\"containerPort\":8080,\"protocol\":\"TCP\"}:\n                  .: {}\n"
                + "                  f:containerPort: {}\n                  f:protocol: {}\n              f:resources:\n"
                + "                .: {}\n                f:limits:\n                  .: {}\n                  f:memory: {}\n"
                + "                f:requests:\n                  .: {}\n                  f:cpu: {}\n                  f:memory: {}\n");
        w.write("          f:dnsPolicy: {}\n          f:enableServiceLinks: {}\n          f:restartPolicy: {}\n"
                + "          f:schedulerName: {}\n          f:securityContext: {}\n          f:terminationGracePeriodSeconds: {}\n");
        w.write("      manager: kube-controller-manager\n      operation: Update\n      time: \"" + ts + "\"\n");
        w.write("    - apiVersion: v1\n      fieldsType: FieldsV1\n      fieldsV1:\n        f:status:\n"
                + "          f:conditions:\n            k:{\"type\":\"ContainersReady\"}:\n              .: {}\n"
                + "              f:lastProbeTime: {}\n              f:lastTransitionTime: {}\n              f:status: {}\n"
                + "              f:type: {}\n            k:{\"type\":\"Initialized\"}:\n              .: {}\n"
                + "              f:lastProbeTime: {}\n              f:lastTransitionTime: {}\n              f:status: {}\n"
                + "              f:type: {}\n            k:{\"type\":\"Ready\"}:\n              .: {}\n"
                + "              f:lastProbeTime: {}\n              f:lastTransitionTime: {}\n              f:status: {}\n"
                + "              f:type: {}\n          f:containerStatuses: {}\n          f:hostIP: {}\n"
                + "          f:phase: {}\n          f:podIP: {}\n          f:podIPs:\n            .: {}\n"
                + "            k:{\"ip\":\"" + ip + "\"}:\n              .: {}\n              f:ip: {}\n"
                + "          f:startTime: {}\n");
        w.write("      manager: kubelet\n      operation: Update\n      subresource: status\n      time: \"" + ts + "\"\n");
        w.write("    name: " + name + "\n    namespace: " + ns + "\n");
        w.write("    ownerReferences:\n    - apiVersion: apps/v1\n      blockOwnerDeletion: true\n      controller: true\n"
                + "      kind: ReplicaSet\n      name: " + rs + "\n      uid: " + uid(r) + "\n");
        w.write("    resourceVersion: \"" + (1000000 + i * 13) + "\"\n    uid: " + uid(r) + "\n");
        w.write("  spec:\n    containers:\n    - env:\n      - name: LOG_LEVEL\n        value: info\n"
                + "      - name: POD_NAME\n        valueFrom:\n          fieldRef:\n            apiVersion: v1\n"
                + "            fieldPath: metadata.name\n");
        w.write("      image: " + image + "\n      imagePullPolicy: IfNotPresent\n");
        w.write("      livenessProbe:\n        failureThreshold: 3\n        httpGet:\n          path: /healthz\n"
                + "          port: 8080\n          scheme: HTTP\n        periodSeconds: 10\n        successThreshold: 1\n"
                + "        timeoutSeconds: 1\n");
        w.write("      name: app\n      ports:\n      - containerPort: 8080\n        name: http\n        protocol: TCP\n");
        w.write("      resources:\n" + (limit.isEmpty() ? "" : "        limits:\n          memory: " + limit + "\n")
                + "        requests:\n          cpu: " + (50 + r.nextInt(10) * 50) + "m\n          memory: " + mem + "Mi\n");
        w.write("      terminationMessagePath: /dev/termination-log\n      terminationMessagePolicy: File\n");
        w.write("      volumeMounts:\n      - mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n"
                + "        name: kube-api-access-" + Integer.toString(i * 31 % 46656, 36) + "\n        readOnly: true\n");
        w.write("    dnsPolicy: ClusterFirst\n    enableServiceLinks: true\n    nodeName: " + node + "\n"
                + "    preemptionPolicy: PreemptLowerPriority\n    priority: 0\n    restartPolicy: Always\n"
                + "    schedulerName: default-scheduler\n    securityContext: {}\n    serviceAccount: default\n"
                + "    serviceAccountName: default\n    terminationGracePeriodSeconds: 30\n");
        w.write("    tolerations:\n    - effect: NoExecute\n      key: node.kubernetes.io/not-ready\n"
                + "      operator: Exists\n      tolerationSeconds: 300\n    - effect: NoExecute\n"
                + "      key: node.kubernetes.io/unreachable\n      operator: Exists\n      tolerationSeconds: 300\n");
        w.write("    volumes:\n    - name: kube-api-access-" + Integer.toString(i * 31 % 46656, 36) + "\n      projected:\n"
                + "        defaultMode: 420\n        sources:\n        - serviceAccountToken:\n"
                + "            expirationSeconds: 3607\n            path: token\n        - configMap:\n            items:\n"
                + "            - key: ca.crt\n              path: ca.crt\n            name: kube-root-ca.crt\n"
                + "        - downwardAPI:\n            items:\n            - fieldRef:\n                apiVersion: v1\n"
                + "                fieldPath: metadata.namespace\n              path: namespace\n");
        w.write("  status:\n    conditions:\n");
        for (String c : new String[] {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
            w.write("    - lastProbeTime: null\n      lastTransitionTime: \"" + ts + "\"\n      status: \"True\"\n"
                    + "      type: " + c + "\n");
        }
        w.write("    containerStatuses:\n    - containerID: " + cid + "\n      image: " + image + "\n"
                + "      imageID: " + image.replace(":v", "@sha256:") + Long.toHexString(r.nextLong()) + "\n"
                + "      lastState: {}\n      name: app\n      ready: true\n      restartCount: " + r.nextInt(3) + "\n"
                + "      started: true\n      state:\n        running:\n          startedAt: \"" + ts + "\"\n"
                + "      volumeMounts:\n      - mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n"
                + "        name: kube-api-access-" + Integer.toString(i * 31 % 46656, 36) + "\n        readOnly: true\n"
                + "        recursiveReadOnly: Disabled\n");
        w.write("    hostIP: 192.168.0." + (i % 97 + 10) + "\n    hostIPs:\n    - ip: 192.168.0." + (i % 97 + 10) + "\n"
                + "    phase: Running\n    podIP: " + ip + "\n    podIPs:\n    - ip: " + ip + "\n"
                + "    qosClass: " + qos + "\n    startTime: \"" + ts + "\"\n");
    }
}
