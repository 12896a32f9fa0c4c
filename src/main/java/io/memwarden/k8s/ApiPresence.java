package io.memwarden.k8s;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whether this process has a way to reach the Kubernetes API, for {@code memwarden doctor}: the in-cluster
 * environment (KUBERNETES_SERVICE_HOST/_PORT and the service account token) or a kubeconfig ($KUBECONFIG, else
 * ~/.kube/config). Presence only: no cluster is contacted.
 *
 * @param inClusterEnv   KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set
 * @param serviceAccount the service account token file exists
 * @param kubeconfig     the kubeconfig file found, or null
 */
public record ApiPresence(boolean inClusterEnv, boolean serviceAccount, String kubeconfig) {
    static final String TOKEN = "var/run/secrets/kubernetes.io/serviceaccount/token";

    /**
     * @param root the node's "/" (files are looked up below it)
     * @param env  the environment (System.getenv() in production)
     */
    public static ApiPresence read(Path root, Map<String, String> env) {
        boolean inCluster = notBlank(env.get("KUBERNETES_SERVICE_HOST")) && notBlank(env.get("KUBERNETES_SERVICE_PORT"));
        boolean token = Files.isRegularFile(root.resolve(TOKEN));
        String kubeconfig = null;
        String kc = env.get("KUBECONFIG");
        if (notBlank(kc)) {
            for (String p : kc.split(":")) {
                if (!p.isBlank() && Files.isRegularFile(under(root, p))) {
                    kubeconfig = p;
                    break;
                }
            }
        } else if (notBlank(env.get("HOME"))) {
            String p = env.get("HOME").replaceAll("/+$", "") + "/.kube/config";
            if (Files.isRegularFile(under(root, p))) {
                kubeconfig = p;
            }
        }
        return new ApiPresence(inCluster, token, kubeconfig);
    }

    private static Path under(Path root, String absolute) {
        return absolute.startsWith("/") ? root.resolve(absolute.substring(1)) : root.resolve(absolute);
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }
}
