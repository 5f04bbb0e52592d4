//go:build amd64 || arm64

package gid

import "unsafe"

// getg returns the calling goroutine's descriptor: the g register (arm64)
// or its thread-local slot (amd64).
func getg() unsafe.Pointer
