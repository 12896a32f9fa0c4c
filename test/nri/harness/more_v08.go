//go:build nri08

package main

import "github.com/containerd/nri/pkg/api"

// NRI v0.7+ splits a sync over ttrpc's message limit: "more" on every chunk but the last, echoed by the plugin.
func syncMore(r *api.SynchronizeRequest) bool { return r.More }

func syncReplyMore(r *api.SynchronizeResponse) bool { return r.More }
