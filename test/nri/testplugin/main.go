// Command testplugin is a tiny external NRI plugin (NRI's own pkg/stub, v0.6.1 from Debian) used only to validate
// memwarden's interop harness without memwarden: on CreateContainer it sets unified["memory.swap.max"]="0";
// on a container named "fail" it returns an error; on Synchronize it asks for memory.swap.max=0 on every
// running container. With -reconnect it dials the socket again after the runtime closed the connection.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
)

type plugin struct{}

func (plugin) Configure(ctx context.Context, config, runtime, version string) (api.EventMask, error) {
	fmt.Fprintf(os.Stderr, "testplugin: configured by %s %s\n", runtime, version)
	return api.MustParseEventMask("CreateContainer"), nil
}

func (plugin) Synchronize(ctx context.Context, pods []*api.PodSandbox, ctrs []*api.Container) ([]*api.ContainerUpdate, error) {
	var upd []*api.ContainerUpdate
	for _, c := range ctrs {
		if c.State == api.ContainerState_CONTAINER_RUNNING {
			u := &api.ContainerUpdate{ContainerId: c.Id}
			u.AddLinuxUnified("memory.swap.max", "0")
			upd = append(upd, u)
		}
	}
	return upd, nil
}

func (plugin) CreateContainer(ctx context.Context, pod *api.PodSandbox, c *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	if c.Name == "fail" {
		return nil, nil, errors.New("testplugin: refusing container \"fail\"")
	}
	adj := &api.ContainerAdjustment{}
	adj.AddLinuxUnified("memory.swap.max", "0")
	return adj, nil, nil
}

func main() {
	socket := flag.String("socket", api.DefaultSocketPath, "NRI socket")
	idx := flag.String("idx", "10", "plugin index")
	name := flag.String("name", "testplugin", "plugin name")
	reconnect := flag.Bool("reconnect", false, "reconnect after the runtime closed the connection")
	flag.Parse()
	for {
		closed := make(chan struct{})
		s, err := stub.New(plugin{}, stub.WithSocketPath(*socket), stub.WithPluginIdx(*idx), stub.WithPluginName(*name),
			stub.WithOnClose(func() { close(closed) }))
		if err != nil {
			fmt.Fprintln(os.Stderr, "testplugin:", err)
			os.Exit(1)
		}
		err = s.Start(context.Background())
		if err == nil {
			<-closed
			fmt.Fprintln(os.Stderr, "testplugin: connection closed")
		} else {
			fmt.Fprintln(os.Stderr, "testplugin: start:", err)
		}
		if !*reconnect {
			os.Exit(0)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
