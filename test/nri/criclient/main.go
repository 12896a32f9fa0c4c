// Command cri-client is a minimal, test-only CRI client (the kubelet's side of CRI) for the NRI end-to-end check
// (test/vm/guest/containerd-e2e.sh). It talks gRPC to containerd's CRI service with Debian's cri-api package.
//
//	cri-client [-socket PATH] [-timeout 60s] version
//	cri-client ... runp POD.json                   RunPodSandbox; prints the sandbox id
//	cri-client ... create POD_ID POD.json CTR.json CreateContainer; prints the container id
//	cri-client ... start CTR_ID                    StartContainer
//	cri-client ... status CTR_ID                   prints "<state> <exit code> <reason>"
//	cri-client ... stop CTR_ID | stopp POD_ID | rmp POD_ID
//
// POD.json is a runtime.v1 PodSandboxConfig and CTR.json a ContainerConfig, in the Go structs' JSON form
// (snake_case field names, enums as numbers). Errors go to stderr with exit status 1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func readJSON(path string, v interface{}) {
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		fail(fmt.Errorf("%s: %v", path, err))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cri-client:", err)
	os.Exit(1)
}

func main() {
	socket := flag.String("socket", "/run/containerd/containerd.sock", "containerd's socket")
	timeout := flag.Duration("timeout", 60*time.Second, "per-call timeout")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fail(fmt.Errorf("usage: cri-client [-socket PATH] version|runp|create|start|status|stop|stopp|rmp ARGS"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "passthrough:///cri", grpc.WithInsecure(), grpc.WithBlock(),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", *socket)
		}))
	if err != nil {
		fail(fmt.Errorf("connect %s: %v", *socket, err))
	}
	defer conn.Close()
	rt := runtime.NewRuntimeServiceClient(conn)
	need := func(n int) {
		if len(args) != n+1 {
			fail(fmt.Errorf("%s needs %d argument(s)", args[0], n))
		}
	}
	switch args[0] {
	case "version":
		r, err := rt.Version(ctx, &runtime.VersionRequest{})
		if err != nil {
			fail(err)
		}
		fmt.Println(r.RuntimeName, r.RuntimeVersion, r.RuntimeApiVersion)
	case "runp":
		need(1)
		var cfg runtime.PodSandboxConfig
		readJSON(args[1], &cfg)
		r, err := rt.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: &cfg})
		if err != nil {
			fail(err)
		}
		fmt.Println(r.PodSandboxId)
	case "create":
		need(3)
		var pod runtime.PodSandboxConfig
		var ctr runtime.ContainerConfig
		readJSON(args[2], &pod)
		readJSON(args[3], &ctr)
		r, err := rt.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: args[1], Config: &ctr, SandboxConfig: &pod})
		if err != nil {
			fail(err)
		}
		fmt.Println(r.ContainerId)
	case "start":
		need(1)
		if _, err := rt.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: args[1]}); err != nil {
			fail(err)
		}
	case "status":
		need(1)
		r, err := rt.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: args[1]})
		if err != nil {
			fail(err)
		}
		fmt.Println(r.Status.State.String(), r.Status.ExitCode, r.Status.Reason)
	case "stop":
		need(1)
		if _, err := rt.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: args[1], Timeout: 5}); err != nil {
			fail(err)
		}
	case "stopp":
		need(1)
		if _, err := rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: args[1]}); err != nil {
			fail(err)
		}
	case "rmp":
		need(1)
		if _, err := rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: args[1]}); err != nil {
			fail(err)
		}
	default:
		fail(fmt.Errorf("unknown command %q", args[0]))
	}
}
