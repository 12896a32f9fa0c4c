//go:build !nri08

package main

import "github.com/containerd/nri/pkg/api"

// NRI v0.6.1 has no split sync: every Synchronize request is the whole sync, every reply final.
func syncMore(*api.SynchronizeRequest) bool { return false }

func syncReplyMore(*api.SynchronizeResponse) bool { return false }
