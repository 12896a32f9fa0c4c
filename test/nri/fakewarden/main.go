// Command fakewarden stands in for `memwarden nri` to check the Java interop test itself (NriInteropTest)
// while the real plugin is not available: it speaks NRI through NRI's own pkg/stub and answers from
// `memwarden plan -o json` files instead of running memwarden's policy.
//
//	MEMWARDEN_FAKE_PLANS=plan.json[:plan2.json...] fakewarden nri --socket PATH --index NN [--name NAME] [ignored...]
//
// For a container it uses the first plan whose memory.max equals the container's limit (else the first plan):
// unified = the cgroup map minus memory.max; LinuxMemory.limit = memory.max (v1: memory.limit_in_bytes) when it
// differs; v1: LinuxMemory.swap = memory.memsw.limit_in_bytes. Plan errors become
// CreateContainer errors. Subscribes to CreateContainer and UpdateContainer; answers Synchronize with updates for
// every container; reconnects after the runtime closed the connection.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/ioutil"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
)

type planFile struct {
	Pods []struct {
		Namespace, Name string
		Containers      []struct {
			Name   string
			Cgroup map[string]string
		}
	}
	Errors []struct{ Pod, Container, Message string }
}

type fake struct {
	plans []planFile
}

func (f *fake) cgroup(pod *api.PodSandbox, c *api.Container, limit *int64) (map[string]string, error) {
	key := pod.Namespace + "/" + pod.Name
	for _, e := range f.plans[0].Errors {
		if e.Pod == key && (e.Container == "" || e.Container == c.Name) {
			return nil, errors.New(e.Message)
		}
	}
	var first map[string]string
	for _, p := range f.plans {
		for _, pp := range p.Pods {
			if pp.Namespace+"/"+pp.Name != key {
				continue
			}
			for _, pc := range pp.Containers {
				if pc.Name != c.Name {
					continue
				}
				if first == nil {
					first = pc.Cgroup
				}
				if limit != nil && pc.Cgroup["memory.max"] == strconv.FormatInt(*limit, 10) {
					return pc.Cgroup, nil
				}
			}
		}
	}
	if first == nil {
		return nil, fmt.Errorf("fakewarden: no plan for %s:%s", key, c.Name)
	}
	return first, nil
}

func limitOf(r *api.LinuxResources) *int64 {
	if r == nil || r.Memory == nil || r.Memory.Limit == nil {
		return nil
	}
	v := r.Memory.Limit.Value
	return &v
}

func resources(cg map[string]string, limit *int64) *api.LinuxResources {
	const v1Limit, v1Memsw, v1Swappiness = "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.swappiness"
	r := &api.LinuxResources{Unified: map[string]string{}, Memory: &api.LinuxMemory{}}
	for k, v := range cg {
		if k != "memory.max" && k != v1Limit && k != v1Memsw && k != v1Swappiness {
			r.Unified[k] = v
		}
	}
	m, ok := cg["memory.max"]
	if !ok {
		m, ok = cg[v1Limit]
	}
	if ok {
		if n, err := strconv.ParseInt(m, 10, 64); err == nil && (limit == nil || n != *limit) {
			r.Memory.Limit = &api.OptionalInt64{Value: n}
		}
	}
	if m, ok := cg[v1Swappiness]; ok {
		if n, err := strconv.ParseUint(m, 10, 64); err == nil {
			r.Memory.Swappiness = &api.OptionalUInt64{Value: n}
		}
	}
	if m, ok := cg[v1Memsw]; ok {
		if n, err := strconv.ParseInt(m, 10, 64); err == nil {
			r.Memory.Swap = &api.OptionalInt64{Value: n}
		}
	}
	return r
}

func (f *fake) Configure(ctx context.Context, config, runtime, version string) (api.EventMask, error) {
	return api.MustParseEventMask("CreateContainer", "UpdateContainer"), nil
}

func (f *fake) Synchronize(ctx context.Context, pods []*api.PodSandbox, ctrs []*api.Container) ([]*api.ContainerUpdate, error) {
	byID := map[string]*api.PodSandbox{}
	for _, p := range pods {
		byID[p.Id] = p
	}
	var upd []*api.ContainerUpdate
	for _, c := range ctrs {
		p := byID[c.PodSandboxId]
		if p == nil {
			continue
		}
		var lim *int64
		if c.Linux != nil {
			lim = limitOf(c.Linux.Resources)
		}
		cg, err := f.cgroup(p, c, lim)
		if err != nil {
			continue
		}
		upd = append(upd, &api.ContainerUpdate{ContainerId: c.Id,
			Linux: &api.LinuxContainerUpdate{Resources: resources(cg, lim)}})
	}
	return upd, nil
}

func (f *fake) CreateContainer(ctx context.Context, pod *api.PodSandbox, c *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	lim := limitOf(c.Linux.Resources)
	cg, err := f.cgroup(pod, c, lim)
	if err != nil {
		return nil, nil, err
	}
	return &api.ContainerAdjustment{Linux: &api.LinuxContainerAdjustment{Resources: resources(cg, lim)}}, nil, nil
}

func (f *fake) UpdateContainer(ctx context.Context, pod *api.PodSandbox, c *api.Container, r *api.LinuxResources) ([]*api.ContainerUpdate, error) {
	lim := limitOf(r)
	cg, err := f.cgroup(pod, c, lim)
	if err != nil {
		return nil, err
	}
	return []*api.ContainerUpdate{{ContainerId: c.Id, Linux: &api.LinuxContainerUpdate{Resources: resources(cg, lim)}}}, nil
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "nri" {
		args = args[1:]
	}
	opts := map[string]string{"--name": "memwarden"}
	for i := 0; i < len(args); i++ {
		if args[i] == "--help" || args[i] == "-h" {
			fmt.Println("Usage: fakewarden nri --socket PATH --index NN [--name NAME] (test stand-in for memwarden nri)")
			return
		}
		if strings.HasPrefix(args[i], "--") && i+1 < len(args) {
			opts[args[i]] = args[i+1]
			i++
		}
	}
	f := &fake{}
	for _, p := range strings.Split(os.Getenv("MEMWARDEN_FAKE_PLANS"), ":") {
		b, err := ioutil.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakewarden: MEMWARDEN_FAKE_PLANS:", err)
			os.Exit(2)
		}
		var pf planFile
		if err := json.Unmarshal(b, &pf); err != nil {
			fmt.Fprintln(os.Stderr, "fakewarden:", p, err)
			os.Exit(2)
		}
		f.plans = append(f.plans, pf)
	}
	for {
		closed := make(chan struct{})
		s, err := stub.New(f, stub.WithSocketPath(opts["--socket"]), stub.WithPluginIdx(opts["--index"]),
			stub.WithPluginName(opts["--name"]), stub.WithOnClose(func() { close(closed) }))
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakewarden:", err)
			os.Exit(1)
		}
		if err := s.Start(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "fakewarden: start:", err)
		} else {
			<-closed
		}
		time.Sleep(200 * time.Millisecond)
	}
}
