package io.memwarden.k8s;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KubeVirt's objects read from the API for the agent (docs/vm-nodes.md "Published overhead"): a
 * VirtualMachineInstance by namespace and name, the KubeVirt CR. Both come back as JSON text for the input room to
 * read; a failure gives null. Where KubeVirt is not installed (404 on the kind) or memwarden may not read it (403)
 * that is said once, not on every pod.
 */
final class KubeVirtObjects {
    private static final Logger LOG = LoggerFactory.getLogger(KubeVirtObjects.class);
    /** The kinds by their plural (no discovery request needed): kubevirt.io/v1, both namespaced. */
    static final ResourceDefinitionContext VMIS = context("VirtualMachineInstance", "virtualmachineinstances");
    static final ResourceDefinitionContext KUBEVIRTS = context("KubeVirt", "kubevirts");

    private final KubernetesClient api;
    private final AtomicBoolean refusedSaid = new AtomicBoolean();

    KubeVirtObjects(KubernetesClient api) {
        this.api = api;
    }

    /** The VMI's JSON, or null when it does not exist or cannot be read. */
    String virtualMachineInstance(String namespace, String name) {
        try {
            GenericKubernetesResource vmi = api.genericKubernetesResources(VMIS).inNamespace(namespace).withName(name)
                    .get();
            return vmi == null ? null : api.getKubernetesSerialization().asJson(vmi);
        } catch (KubernetesClientException e) {
            refused("VirtualMachineInstance " + namespace + "/" + name, e);
            return null;
        }
    }

    /** The first KubeVirt CR of the cluster (KubeVirt allows one), as JSON; null when there is none or it is unreadable. */
    String kubeVirt() {
        try {
            GenericKubernetesResourceList list = api.genericKubernetesResources(KUBEVIRTS).inAnyNamespace().list();
            return list == null || list.getItems().isEmpty() ? null
                    : api.getKubernetesSerialization().asJson(list.getItems().getFirst());
        } catch (KubernetesClientException e) {
            refused("the KubeVirt CR", e);
            return null;
        }
    }

    private static ResourceDefinitionContext context(String kind, String plural) {
        return new ResourceDefinitionContext.Builder().withGroup("kubevirt.io").withVersion("v1").withKind(kind)
                .withPlural(plural).withNamespaced(true).build();
    }

    private void refused(String what, KubernetesClientException e) {
        if (e.getCode() == 403 || e.getCode() == 404) {
            if (refusedSaid.compareAndSet(false, true)) {
                LOG.warn("cannot read {} ({}): {}; version drift of published VM overheads is not checked", what,
                        ApiCalls.brief(e), e.getCode() == 403 ? "the chart's ClusterRole grants get on"
                                + " virtualmachineinstances and list on kubevirts of kubevirt.io"
                                : "is KubeVirt installed?");
            }
        } else {
            LOG.warn("cannot read {}: {}", what, ApiCalls.brief(e));
        }
    }
}
