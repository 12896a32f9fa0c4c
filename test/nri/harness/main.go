// Command harness is memwarden's NRI interop oracle (test-only): it runs the REAL NRI runtime adaptation
// (github.com/containerd/nri/pkg/adaptation from Debian: v0.6.1 as nri-harness, the same source built against
// v0.8.0 as nri-harness08, see ../build.sh) on a unix socket, waits for external plugins to register, then drives
// a scenario of CRI-like steps and prints each step's result as one JSON line.
//
//	harness [-socket PATH] [-plugins N] [-wait 30s] [-runtime-name N] [-runtime-version V] [-bench N [-warmup W]] SCENARIO.json|-
//
// SCENARIO is a JSON array of steps or a stream of JSON step objects ("-" = stdin, read step by step, so a
// test can interleave its own actions such as killing and restarting the plugin). Step objects:
//
//	{"op":"RunPodSandbox","pod":{...}}             pod: protojson of api.PodSandbox (proto or JSON field names)
//	{"op":"CreateContainer","pod":P,"container":{...}}   P: a pod object, or the id / "ns/name" of a known pod
//	{"op":"StartContainer"|"StopContainer"|"RemoveContainer","container":C}   C: object or id of a known container
//	{"op":"UpdateContainer","container":C,"resources":{...}}  resources: api.LinuxResources (the new ones)
//	{"op":"StopPodSandbox"|"RemovePodSandbox","pod":P}
//	{"op":"AddExisting","pods":[...],"containers":[...]}  add pods/containers that exist before a plugin starts
//	                                                 (reported by the next sync; containers default to running)
//	{"op":"Synchronize","pods":[...],"containers":[...]}  add existing pods/containers, then restart the
//	                                                 adaptation so plugins reconnect and are synchronized
//	{"op":"RestartRuntime"}                          runtime restart: plugin connections close, listener reopens
//	{"op":"WaitPlugin","registrations":N,"timeoutMs":T[,"failFast":true]}  wait for the N-th registration
//	                                                 (default: next one); failFast: or until a plugin sync fails
//	{"op":"Plugins"} | {"op":"Sleep","ms":N}
//
// Every step may carry "id" (echoed). Output lines: {"step":i,"op":..,"id":..,"ok":bool,"error":..,
// "adjust":{..},"update":[..],"evict":[..],"sync":[..],"plugins":[..],"registrations":n,"ms":f}; protobuf
// messages are printed with protojson using proto field names (int64 values as strings). The first line is
// {"event":"listening","socket":...,"nri":VERSION}; a "ready" line follows once the first -plugins plugins registered.
// Results of steps that wait for a sync (WaitPlugin, Synchronize, RestartRuntime) also carry "syncChunks": every
// Synchronize request the runtime sent for that sync (NRI v0.7+ splits one over ttrpc's 4 MiB message limit), as
// {"pods","containers","more","bytes","ms","error" | "reply_more","reply_updates","unsolicited_before"}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/containerd/nri/pkg/adaptation"
	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/net/multiplex"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

type step struct {
	Op            string            `json:"op"`
	ID            string            `json:"id,omitempty"`
	Pod           json.RawMessage   `json:"pod,omitempty"`
	Container     json.RawMessage   `json:"container,omitempty"`
	Resources     json.RawMessage   `json:"resources,omitempty"`
	Pods          []json.RawMessage `json:"pods,omitempty"`
	Containers    []json.RawMessage `json:"containers,omitempty"`
	Registrations int               `json:"registrations,omitempty"`
	TimeoutMs     int               `json:"timeoutMs,omitempty"`
	FailFast      bool              `json:"failFast,omitempty"`
	Ms            int               `json:"ms,omitempty"`
}

// nriVersion is the NRI library the harness is built against (build.sh sets it with -ldflags -X).
var nriVersion = "v0.6.1"

type harness struct {
	socket, dir string
	wantPlugins int
	wait        time.Duration
	rtName      string // the runtime's name and version as Configure tells plugins
	rtVersion   string

	mu            sync.Mutex
	cond          *sync.Cond
	registrations int
	firstReg      time.Time // when the first plugin registration (register, configure, synchronize) completed
	lastSync      []*api.ContainerUpdate
	lastSyncErr   error
	starting      bool                     // inside Adaptation.Start: its sync of pre-installed plugins is no registration
	chunks        []map[string]interface{} // the Synchronize requests of the sync in progress
	lastChunks    []map[string]interface{} // ... and of the last completed one
	unsolicited   int                      // UpdateContainers calls received from plugins
	syncFailures  int                      // plugin syncs that failed (the runtime dropped the plugin)

	a          *adaptation.Adaptation
	pods       map[string]*api.PodSandbox
	podOrder   []string
	ctrs       map[string]*api.Container
	ctrOrder   []string
	out        *json.Encoder
	marshaller protojson.MarshalOptions
}

func main() {
	socket := flag.String("socket", "", "NRI socket path (default: <tmpdir>/nri.sock)")
	plugins := flag.Int("plugins", 1, "wait for this many registered plugins before the first step (0: none)")
	wait := flag.Duration("wait", 30*time.Second, "how long to wait for plugin registrations")
	bench := flag.Int("bench", 0, "timing mode: N sequential CreateContainer calls after a warm-up")
	warmup := flag.Int("warmup", 200, "warm-up CreateContainer calls before -bench")
	rtName := flag.String("runtime-name", "memwarden-nri-harness", "runtime name sent to plugins in Configure")
	rtVersion := flag.String("runtime-version", nriVersion, "runtime version sent to plugins in Configure")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: harness [-socket PATH] [-plugins N] [-wait D] [-runtime-name N] [-runtime-version V] [-bench N [-warmup W]] SCENARIO.json|-")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*socket, *plugins, *wait, *rtName, *rtVersion, *bench, *warmup, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

func run(socket string, plugins int, wait time.Duration, rtName, rtVersion string, bench, warmup int, scenario string) error {
	dir, err := ioutil.TempDir("", "nri-harness-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if socket == "" {
		socket = filepath.Join(dir, "nri.sock")
	}
	h := &harness{socket: socket, dir: dir, wantPlugins: plugins, wait: wait, rtName: rtName, rtVersion: rtVersion,
		pods: map[string]*api.PodSandbox{}, ctrs: map[string]*api.Container{},
		out: json.NewEncoder(os.Stdout), marshaller: protojson.MarshalOptions{UseProtoNames: true}}
	h.cond = sync.NewCond(&h.mu)

	var in io.Reader
	if scenario == "-" {
		in = os.Stdin
	} else {
		f, err := os.Open(scenario)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}

	if err := h.start(); err != nil {
		return err
	}
	defer func() { h.stop() }()
	// SIGINT/SIGTERM: stop the adaptation (closing plugin connections), remove the temp dir, exit 143
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		h.stop()
		os.Remove(socket)
		os.RemoveAll(dir)
		os.Exit(143)
	}()
	h.emit(map[string]interface{}{"event": "listening", "socket": socket, "nri": nriVersion})
	if plugins > 0 {
		if err := h.waitRegistrations(1, wait); err != nil {
			return err
		}
		h.mu.Lock()
		first := h.firstReg
		h.mu.Unlock()
		h.emit(map[string]interface{}{"event": "ready", "registrations": h.regs(), "plugins": h.activePlugins(),
			"registered_unix_ms": float64(first.UnixNano()) / 1e6})
	}

	if bench > 0 {
		return h.bench(in, bench, warmup)
	}

	dec := json.NewDecoder(in)
	// a JSON array: read the opening bracket, then elements; otherwise a stream of objects
	br := newPeek(dec)
	for i := 1; ; i++ {
		var s step
		more, err := br.next(&s)
		if err != nil {
			return fmt.Errorf("scenario step %d: %w", i, err)
		}
		if !more {
			return nil
		}
		h.do(i, &s)
	}
}

// peek decodes either `[ step, step ]` or `step step ...`.
type peek struct {
	dec     *json.Decoder
	started bool
	array   bool
}

func newPeek(dec *json.Decoder) *peek { return &peek{dec: dec} }

func (p *peek) next(s *step) (bool, error) {
	if !p.started {
		p.started = true
		var raw json.RawMessage
		if err := p.dec.Decode(&raw); err != nil {
			if err == io.EOF {
				return false, nil
			}
			return false, err
		}
		t := strings.TrimSpace(string(raw))
		if strings.HasPrefix(t, "[") {
			// whole array already read: queue its elements
			var all []json.RawMessage
			if err := json.Unmarshal(raw, &all); err != nil {
				return false, err
			}
			p.array = true
			pending = all
		} else {
			return true, json.Unmarshal(raw, s)
		}
	}
	if p.array {
		if len(pending) == 0 {
			return false, nil
		}
		raw := pending[0]
		pending = pending[1:]
		return true, json.Unmarshal(raw, s)
	}
	if err := p.dec.Decode(s); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

var pending []json.RawMessage

// --- adaptation lifecycle ------------------------------------------------------------------------------------------

func (h *harness) start() error {
	a, err := adaptation.New(h.rtName, h.rtVersion, h.syncFn, h.updateFn,
		adaptation.WithSocketPath(h.socket),
		adaptation.WithPluginPath(filepath.Join(h.dir, "plugins")),      // empty: no launched plugins
		adaptation.WithPluginConfigPath(filepath.Join(h.dir, "conf.d")), // empty
		adaptation.WithTTRPCOptions([]ttrpc.ClientOpts{ttrpc.WithUnaryClientInterceptor(h.intercept)}, nil),
	)
	if err != nil {
		return err
	}
	// NRI v0.8.0's Start calls the sync callback once for its pre-installed plugins (none here): not a registration
	h.mu.Lock()
	h.starting = true
	h.mu.Unlock()
	err = a.Start()
	h.mu.Lock()
	h.starting = false
	h.mu.Unlock()
	if err != nil {
		return err
	}
	h.a = a
	return nil
}

// intercept sees every runtime->plugin call on the plugins' ttrpc clients; it records the Synchronize requests
// (one per chunk of a split sync, and the attempts ttrpc refused as oversized) of the sync in progress.
func (h *harness) intercept(ctx context.Context, req *ttrpc.Request, resp *ttrpc.Response, info *ttrpc.UnaryClientInfo,
	invoke ttrpc.Invoker) error {
	if req.Method != "Synchronize" {
		return invoke(ctx, req, resp)
	}
	sr := &api.SynchronizeRequest{}
	c := map[string]interface{}{"bytes": len(req.Payload)}
	if err := proto.Unmarshal(req.Payload, sr); err == nil {
		c["pods"], c["containers"] = len(sr.Pods), len(sr.Containers)
		c["more"] = syncMore(sr)
	}
	h.mu.Lock()
	c["unsolicited_before"] = h.unsolicited
	h.mu.Unlock()
	t0 := time.Now()
	err := invoke(ctx, req, resp)
	c["ms"] = float64(time.Since(t0).Microseconds()) / 1000
	if err != nil {
		c["error"] = err.Error()
	} else if resp.Status != nil && resp.Status.Code != 0 {
		c["error"] = fmt.Sprintf("status %d: %s", resp.Status.Code, resp.Status.Message)
	} else {
		rpl := &api.SynchronizeResponse{}
		if uerr := proto.Unmarshal(resp.Payload, rpl); uerr != nil {
			c["error"] = "undecodable reply: " + uerr.Error()
		} else {
			c["reply_more"], c["reply_updates"] = syncReplyMore(rpl), len(rpl.Update)
		}
	}
	h.mu.Lock()
	h.chunks = append(h.chunks, c)
	h.mu.Unlock()
	return err
}

// stop stops the adaptation and closes every plugin connection, as a runtime process exit would. NRI v0.6.1's
// Adaptation.Stop leaves external plugin connections open, so the harness closes each plugin's mux (the trunk
// connection) itself through reflection: test-only code against a pinned NRI version.
var stopMu sync.Mutex

func (h *harness) stop() {
	stopMu.Lock()
	defer stopMu.Unlock()
	if h.a == nil {
		return
	}
	h.a.Lock() // Stop forgets the plugins: collect their connections first
	muxes := pluginMuxes(h.a)
	h.a.Unlock()
	h.a.Stop()
	for _, m := range muxes {
		m.Close()
	}
	h.a = nil
}

func field(v reflect.Value, name string) reflect.Value {
	f := v.FieldByName(name)
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

func pluginList(a *adaptation.Adaptation) []reflect.Value {
	ps := field(reflect.ValueOf(a).Elem(), "plugins")
	var out []reflect.Value
	for i := 0; i < ps.Len(); i++ {
		out = append(out, ps.Index(i).Elem())
	}
	return out
}

func pluginMuxes(a *adaptation.Adaptation) []multiplex.Mux {
	var out []multiplex.Mux
	for _, p := range pluginList(a) {
		if m, ok := field(p, "mux").Interface().(multiplex.Mux); ok && m != nil {
			out = append(out, m)
		}
	}
	return out
}

// activePlugins lists the registered, not closed plugins as "NN-name", in invocation order.
func (h *harness) activePlugins() []string {
	if h.a == nil {
		return []string{}
	}
	h.a.Lock()
	defer h.a.Unlock()
	out := []string{}
	for _, p := range pluginList(h.a) {
		pm := field(p, "Mutex").Addr().Interface().(*sync.Mutex)
		pm.Lock()
		closed := field(p, "closed").Bool()
		pm.Unlock()
		if !closed {
			out = append(out, field(p, "idx").String()+"-"+field(p, "base").String())
		}
	}
	return out
}

// pluginEvents maps each active plugin ("NN-name") to the event mask it subscribed to in Configure, as the
// runtime holds it (hex).
func (h *harness) pluginEvents() map[string]string {
	out := map[string]string{}
	if h.a == nil {
		return out
	}
	h.a.Lock()
	defer h.a.Unlock()
	for _, p := range pluginList(h.a) {
		pm := field(p, "Mutex").Addr().Interface().(*sync.Mutex)
		pm.Lock()
		if !field(p, "closed").Bool() {
			out[field(p, "idx").String()+"-"+field(p, "base").String()] = fmt.Sprintf("0x%x", field(p, "events").Int())
		}
		pm.Unlock()
	}
	return out
}

// syncFn is called by the adaptation once per connecting plugin, with the plugin's synchronize callback.
func (h *harness) syncFn(ctx context.Context, cb adaptation.SyncCB) error {
	h.mu.Lock()
	pods, ctrs := h.snapshot()
	starting := h.starting
	if !starting {
		h.chunks = nil
	}
	h.mu.Unlock()
	upd, err := cb(ctx, pods, ctrs)
	h.mu.Lock()
	if starting { // Adaptation.Start's call for pre-installed plugins: there are none
		h.mu.Unlock()
		return err
	}
	h.lastSync, h.lastSyncErr = upd, err
	h.lastChunks = h.chunks
	if err != nil {
		h.syncFailures++
	}
	if err == nil {
		if h.registrations == 0 {
			h.firstReg = time.Now()
		}
		h.registrations++
	}
	h.cond.Broadcast()
	h.mu.Unlock()
	return err
}

func (h *harness) updateFn(ctx context.Context, upd []*adaptation.ContainerUpdate) ([]*adaptation.ContainerUpdate, error) {
	h.mu.Lock()
	h.unsolicited++
	h.mu.Unlock()
	h.emit(map[string]interface{}{"event": "UpdateContainers", "update": h.msgs(upd)})
	return nil, nil
}

func (h *harness) snapshot() ([]*api.PodSandbox, []*api.Container) {
	pods := []*api.PodSandbox{}
	for _, id := range h.podOrder {
		pods = append(pods, proto.Clone(h.pods[id]).(*api.PodSandbox))
	}
	ctrs := []*api.Container{}
	for _, id := range h.ctrOrder {
		ctrs = append(ctrs, proto.Clone(h.ctrs[id]).(*api.Container))
	}
	return pods, ctrs
}

func (h *harness) regs() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.registrations
}

// waitSyncOutcome waits until the n-th registration or a failed plugin sync (WaitPlugin's failFast): the error
// names the sync's failure.
func (h *harness) waitSyncOutcome(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { h.mu.Lock(); h.cond.Broadcast(); h.mu.Unlock() })
	defer timer.Stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	failures := h.syncFailures
	for h.registrations < n && h.syncFailures == failures && time.Now().Before(deadline) {
		h.cond.Wait()
	}
	if h.registrations < n && h.syncFailures > failures {
		return fmt.Errorf("plugin sync failed: %v", h.lastSyncErr)
	}
	return nil
}

// waitRegistrations waits until n registrations in total happened and wantPlugins plugins are active.
func (h *harness) waitRegistrations(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { h.mu.Lock(); h.cond.Broadcast(); h.mu.Unlock() })
	defer timer.Stop()
	h.mu.Lock()
	for h.registrations < n && time.Now().Before(deadline) {
		h.cond.Wait()
	}
	got := h.registrations
	h.mu.Unlock()
	if got < n {
		return fmt.Errorf("timed out after %v waiting for plugin registration #%d (have %d)", timeout, n, got)
	}
	// the adaptation appends the plugin right after the sync callback returns
	want := h.wantPlugins
	if want < 1 {
		want = 1
	}
	for len(h.activePlugins()) < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %d active plugins (have %v)", timeout, want, h.activePlugins())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// --- steps -----------------------------------------------------------------------------------------------------------

func (h *harness) do(i int, s *step) {
	res := map[string]interface{}{"step": i, "op": s.Op}
	if s.ID != "" {
		res["id"] = s.ID
	}
	t0 := time.Now()
	err := h.apply(s, res)
	res["ms"] = float64(time.Since(t0).Microseconds()) / 1000
	res["ok"] = err == nil
	if err != nil {
		res["error"] = err.Error()
	}
	res["plugins"] = h.activePlugins()
	res["registrations"] = h.regs()
	h.emit(res)
}

func (h *harness) apply(s *step, res map[string]interface{}) error {
	ctx := context.Background()
	switch s.Op {
	case "RunPodSandbox":
		pod, err := h.pod(s.Pod, true)
		if err != nil {
			return err
		}
		res["pod"] = podName(pod)
		return h.a.RunPodSandbox(ctx, &api.StateChangeEvent{Pod: pod})
	case "StopPodSandbox", "RemovePodSandbox":
		pod, err := h.pod(s.Pod, false)
		if err != nil {
			return err
		}
		res["pod"] = podName(pod)
		if s.Op == "StopPodSandbox" {
			return h.a.StopPodSandbox(ctx, &api.StateChangeEvent{Pod: pod})
		}
		err = h.a.RemovePodSandbox(ctx, &api.StateChangeEvent{Pod: pod})
		h.forgetPod(pod.Id)
		return err
	case "CreateContainer":
		pod, err := h.pod(s.Pod, true)
		if err != nil {
			return err
		}
		c := &api.Container{}
		if err := protojson.Unmarshal(s.Container, c); err != nil {
			return fmt.Errorf("container: %w", err)
		}
		if c.PodSandboxId == "" {
			c.PodSandboxId = pod.Id
		}
		if c.Id == "" {
			c.Id = pod.Id + "-" + c.Name
		}
		c.State = api.ContainerState_CONTAINER_CREATED
		res["pod"], res["container"] = podName(pod), c.Name
		rpl, err := h.a.CreateContainer(ctx, &api.CreateContainerRequest{Pod: pod, Container: proto.Clone(c).(*api.Container)})
		if err != nil {
			return err
		}
		res["adjust"] = h.msg(rpl.Adjust)
		res["update"] = h.msgs(rpl.Update)
		res["evict"] = h.msgs(rpl.Evict)
		applyAdjustment(c, rpl.Adjust)
		h.remember(nil, c)
		return nil
	case "StartContainer", "RemoveContainer":
		pod, c, err := h.ctr(s.Container)
		if err != nil {
			return err
		}
		res["pod"], res["container"] = podName(pod), c.Name
		if s.Op == "StartContainer" {
			c.State = api.ContainerState_CONTAINER_RUNNING
			return h.a.StartContainer(ctx, &api.StateChangeEvent{Pod: pod, Container: c})
		}
		err = h.a.RemoveContainer(ctx, &api.StateChangeEvent{Pod: pod, Container: c})
		h.forgetCtr(c.Id)
		return err
	case "UpdateContainer":
		pod, c, err := h.ctr(s.Container)
		if err != nil {
			return err
		}
		r := &api.LinuxResources{}
		if len(s.Resources) > 0 {
			if err := protojson.Unmarshal(s.Resources, r); err != nil {
				return fmt.Errorf("resources: %w", err)
			}
		}
		res["pod"], res["container"] = podName(pod), c.Name
		rpl, err := h.a.UpdateContainer(ctx, &api.UpdateContainerRequest{Pod: pod, Container: c, LinuxResources: r})
		if err != nil {
			return err
		}
		res["update"] = h.msgs(rpl.Update)
		res["evict"] = h.msgs(rpl.Evict)
		// the runtime applies the new resources, then what the plugins changed for this container
		adj := &api.ContainerAdjustment{Linux: &api.LinuxContainerAdjustment{Resources: r}}
		applyAdjustment(c, adj)
		for _, u := range rpl.Update {
			if u != nil && u.ContainerId == c.Id && u.Linux != nil {
				applyAdjustment(c, &api.ContainerAdjustment{Linux: &api.LinuxContainerAdjustment{Resources: u.Linux.Resources}})
			}
		}
		return nil
	case "StopContainer":
		pod, c, err := h.ctr(s.Container)
		if err != nil {
			return err
		}
		res["pod"], res["container"] = podName(pod), c.Name
		rpl, err := h.a.StopContainer(ctx, &api.StopContainerRequest{Pod: pod, Container: c})
		c.State = api.ContainerState_CONTAINER_STOPPED
		if err != nil {
			return err
		}
		res["update"] = h.msgs(rpl.Update)
		return nil
	case "AddExisting", "Synchronize", "RestartRuntime":
		for _, raw := range s.Pods {
			p := &api.PodSandbox{}
			if err := protojson.Unmarshal(raw, p); err != nil {
				return fmt.Errorf("pods: %w", err)
			}
			h.remember(p, nil)
		}
		for _, raw := range s.Containers {
			c := &api.Container{}
			if err := protojson.Unmarshal(raw, c); err != nil {
				return fmt.Errorf("containers: %w", err)
			}
			if c.State == api.ContainerState_CONTAINER_UNKNOWN {
				c.State = api.ContainerState_CONTAINER_RUNNING
			}
			h.remember(nil, c)
		}
		h.mu.Lock()
		res["syncPods"], res["syncContainers"] = len(h.podOrder), len(h.ctrOrder)
		h.mu.Unlock()
		if s.Op == "AddExisting" {
			return nil
		}
		before := h.regs()
		h.stop()
		if err := h.start(); err != nil {
			return err
		}
		if err := h.waitRegistrations(before+max(1, h.wantPlugins), h.timeout(s)); err != nil {
			return err
		}
		h.mu.Lock()
		res["sync"], res["syncPods"], res["syncContainers"] = h.msgs(h.lastSync), len(h.podOrder), len(h.ctrOrder)
		res["syncChunks"] = h.lastChunks
		h.mu.Unlock()
		return nil
	case "WaitPlugin":
		n := s.Registrations
		if n == 0 {
			n = h.regs() + 1
		}
		var err error
		if s.FailFast {
			err = h.waitSyncOutcome(n, h.timeout(s))
		}
		if err == nil {
			err = h.waitRegistrations(n, h.timeout(s))
		}
		h.mu.Lock()
		res["syncChunks"] = h.lastChunks // also of a failed sync: how the plugin answered
		if h.lastSyncErr != nil {
			res["syncError"] = h.lastSyncErr.Error()
		}
		if err == nil {
			res["sync"] = h.msgs(h.lastSync)
		}
		h.mu.Unlock()
		res["events"] = h.pluginEvents()
		return err
	case "Plugins":
		res["events"] = h.pluginEvents()
		return nil
	case "Sleep":
		time.Sleep(time.Duration(s.Ms) * time.Millisecond)
		return nil
	}
	return fmt.Errorf("unknown op %q", s.Op)
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func (h *harness) timeout(s *step) time.Duration {
	if s.TimeoutMs > 0 {
		return time.Duration(s.TimeoutMs) * time.Millisecond
	}
	return h.wait
}

// pod resolves a pod object (remembered when create is set) or a reference: its id or "namespace/name".
func (h *harness) pod(raw json.RawMessage, create bool) (*api.PodSandbox, error) {
	if len(raw) == 0 {
		return nil, errors.New("step needs a pod")
	}
	var ref string
	if json.Unmarshal(raw, &ref) == nil {
		h.mu.Lock()
		defer h.mu.Unlock()
		if p, ok := h.pods[ref]; ok {
			return p, nil
		}
		for _, p := range h.pods {
			if podName(p) == ref {
				return p, nil
			}
		}
		return nil, fmt.Errorf("unknown pod %q", ref)
	}
	p := &api.PodSandbox{}
	if err := protojson.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("pod: %w", err)
	}
	if p.Id == "" {
		p.Id = p.Uid
	}
	if create {
		h.remember(p, nil)
	}
	return p, nil
}

// ctr resolves a known container by id (a string) or by the "id" of an object.
func (h *harness) ctr(raw json.RawMessage) (*api.PodSandbox, *api.Container, error) {
	var id string
	if json.Unmarshal(raw, &id) != nil {
		c := &api.Container{}
		if err := protojson.Unmarshal(raw, c); err != nil {
			return nil, nil, fmt.Errorf("container: %w", err)
		}
		id = c.Id
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.ctrs[id]
	if !ok {
		return nil, nil, fmt.Errorf("unknown container %q", id)
	}
	p, ok := h.pods[c.PodSandboxId]
	if !ok {
		return nil, nil, fmt.Errorf("container %q: unknown pod %q", id, c.PodSandboxId)
	}
	return p, c, nil
}

func (h *harness) remember(p *api.PodSandbox, c *api.Container) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p != nil {
		if _, ok := h.pods[p.Id]; !ok {
			h.podOrder = append(h.podOrder, p.Id)
		}
		h.pods[p.Id] = p
	}
	if c != nil {
		if _, ok := h.ctrs[c.Id]; !ok {
			h.ctrOrder = append(h.ctrOrder, c.Id)
		}
		h.ctrs[c.Id] = c
	}
}

func (h *harness) forgetPod(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.pods, id)
	h.podOrder = without(h.podOrder, id)
}

func (h *harness) forgetCtr(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.ctrs, id)
	h.ctrOrder = without(h.ctrOrder, id)
}

func without(ids []string, id string) []string {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// applyAdjustment records the memory parts of an adjustment in the container, as the runtime would.
func applyAdjustment(c *api.Container, adj *api.ContainerAdjustment) {
	if adj == nil || adj.Linux == nil || adj.Linux.Resources == nil {
		return
	}
	if c.Linux == nil {
		c.Linux = &api.LinuxContainer{}
	}
	if c.Linux.Resources == nil {
		c.Linux.Resources = &api.LinuxResources{}
	}
	r, a := c.Linux.Resources, adj.Linux.Resources
	if a.Memory != nil {
		if r.Memory == nil {
			r.Memory = &api.LinuxMemory{}
		}
		if a.Memory.Limit != nil {
			r.Memory.Limit = a.Memory.Limit
		}
		if a.Memory.Swap != nil {
			r.Memory.Swap = a.Memory.Swap
		}
	}
	if len(a.Unified) > 0 {
		if r.Unified == nil {
			r.Unified = map[string]string{}
		}
		for k, v := range a.Unified {
			r.Unified[k] = v
		}
	}
}

func podName(p *api.PodSandbox) string { return p.Namespace + "/" + p.Name }

// --- output ----------------------------------------------------------------------------------------------------------

func (h *harness) msg(m proto.Message) interface{} {
	if m == nil || reflect.ValueOf(m).IsNil() {
		return nil
	}
	b, err := h.marshaller.Marshal(m)
	if err != nil {
		return map[string]string{"marshal_error": err.Error()}
	}
	return json.RawMessage(b)
}

func (h *harness) msgs(ms interface{}) []interface{} {
	out := []interface{}{}
	v := reflect.ValueOf(ms)
	for i := 0; i < v.Len(); i++ {
		out = append(out, h.msg(v.Index(i).Interface().(proto.Message)))
	}
	return out
}

var emitMu sync.Mutex

func (h *harness) emit(v interface{}) {
	emitMu.Lock()
	defer emitMu.Unlock()
	if err := h.out.Encode(v); err != nil {
		fmt.Fprintln(os.Stderr, "harness: output:", err)
	}
}

// --- timing mode ---------------------------------------------------------------------------------------------------------

// bench times sequential CreateContainer calls through all registered plugins. The pod and container come from the
// scenario's first CreateContainer step (default: a Burstable-looking pod with a 1 GiB limit); steps before it run
// untimed, as in a scenario (their result lines are printed).
func (h *harness) bench(in io.Reader, n, warmup int) error {
	pod := &api.PodSandbox{Id: "bench-pod", Name: "bench", Namespace: "default", Uid: "bench-pod"}
	ctr := &api.Container{Name: "app", Linux: &api.LinuxContainer{Resources: &api.LinuxResources{
		Memory: &api.LinuxMemory{Limit: &api.OptionalInt64{Value: 1 << 30}}}}}
	dec := newPeek(json.NewDecoder(in))
	for i := 1; ; i++ {
		var s step
		more, err := dec.next(&s)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if s.Op != "CreateContainer" {
			// steps before the timed one (e.g. Synchronize existing containers) run as in a scenario
			h.do(i, &s)
			continue
		}
		if s.Op == "CreateContainer" {
			p, err := h.pod(s.Pod, true)
			if err != nil {
				return err
			}
			c := &api.Container{}
			if err := protojson.Unmarshal(s.Container, c); err != nil {
				return err
			}
			pod, ctr = p, c
			break
		}
	}
	ctx := context.Background()
	// each container lives a real life: created (timed), then removed (untimed), so a plugin's per-container
	// state stays what a node would hold
	call := func(i int) (time.Duration, error) {
		c := proto.Clone(ctr).(*api.Container)
		c.Id = fmt.Sprintf("bench-%d", i)
		c.PodSandboxId = pod.Id
		c.State = api.ContainerState_CONTAINER_CREATED
		t0 := time.Now()
		_, err := h.a.CreateContainer(ctx, &api.CreateContainerRequest{Pod: pod, Container: c})
		d := time.Since(t0)
		if err != nil {
			return d, err
		}
		c.State = api.ContainerState_CONTAINER_STOPPED
		err = h.a.RemoveContainer(ctx, &api.RemoveContainerRequest{Pod: pod, Container: c})
		return d, err
	}
	for i := 0; i < warmup; i++ {
		if _, err := call(-i - 1); err != nil {
			return fmt.Errorf("warm-up call %d: %w", i, err)
		}
	}
	lat := make([]time.Duration, 0, n)
	var total time.Duration // CreateContainer time only
	for i := 0; i < n; i++ {
		d, err := call(i)
		if err != nil {
			return fmt.Errorf("call %d: %w", i, err)
		}
		lat = append(lat, d)
		total += d
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	pct := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.999999) - 1
		if i < 0 {
			i = 0
		}
		return lat[i]
	}
	h.emit(map[string]interface{}{"bench": n, "warmup": warmup, "plugins": h.activePlugins(),
		"p50_us": us(pct(0.50)), "p99_us": us(pct(0.99)), "max_us": us(lat[len(lat)-1]),
		"calls_per_s": float64(n) / total.Seconds()})
	return nil
}
