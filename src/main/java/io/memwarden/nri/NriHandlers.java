package io.memwarden.nri;

import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerUpdate;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.api.RemoveContainerRequest;
import io.memwarden.nri.api.RemovePodSandboxRequest;
import io.memwarden.nri.api.RunPodSandboxRequest;
import io.memwarden.nri.api.StopContainerRequest;
import io.memwarden.nri.api.StopContainerResponse;
import io.memwarden.nri.api.UpdateContainerRequest;
import io.memwarden.nri.api.UpdateContainerResponse;
import io.memwarden.nri.api.UpdatePodSandboxRequest;
import io.memwarden.nri.wire.RpcException;
import java.util.List;

/**
 * The runtime's calls a plugin may serve, one small interface each (the shape of containerd/nri's Go stub). A plugin
 * implements the ones it cares about; {@link NriStub} subscribes to the events of exactly those, decodes each call
 * (a dedicated RPC or its {@code StateChange} form) into the typed request and encodes the answer. A handler throws
 * {@link RpcException} to fail the call with that status; anything else it throws is an internal error
 * ({@code INTERNAL}, the call fails alone).
 */
interface NriHandlers {
    /** A new connection to the runtime starts (before registering): forget the previous session's state. */
    interface SessionStart {
        void sessionStarted();
    }

    /** The runtime's Configure: the plugin's config and the runtime's identity. The stub answers with the mask. */
    interface Configure {
        void configure(ConfigureRequest request) throws RpcException;
    }

    /**
     * The runtime's pods and containers, once per session; a split sync is joined by the stub first.
     *
     * @return the updates for existing containers
     */
    interface Synchronize {
        List<ContainerUpdate> synchronize(List<PodSandbox> pods, List<Container> containers) throws RpcException;
    }

    /** Subscribes to RUN_POD_SANDBOX. */
    interface RunPodSandbox {
        void runPodSandbox(RunPodSandboxRequest request) throws RpcException;
    }

    /** Subscribes to UPDATE_POD_SANDBOX (only with runtimes of NRI v0.10 or later, see {@link NriEvents}). */
    interface UpdatePodSandbox {
        void updatePodSandbox(UpdatePodSandboxRequest request) throws RpcException;
    }

    /** Subscribes to REMOVE_POD_SANDBOX. */
    interface RemovePodSandbox {
        void removePodSandbox(RemovePodSandboxRequest request) throws RpcException;
    }

    /** Subscribes to CREATE_CONTAINER. */
    interface CreateContainer {
        CreateContainerResponse createContainer(CreateContainerRequest request) throws RpcException;
    }

    /** Subscribes to UPDATE_CONTAINER. */
    interface UpdateContainer {
        UpdateContainerResponse updateContainer(UpdateContainerRequest request) throws RpcException;
    }

    /** Subscribes to STOP_CONTAINER. */
    interface StopContainer {
        StopContainerResponse stopContainer(StopContainerRequest request) throws RpcException;
    }

    /** Subscribes to REMOVE_CONTAINER. */
    interface RemoveContainer {
        void removeContainer(RemoveContainerRequest request) throws RpcException;
    }
}
