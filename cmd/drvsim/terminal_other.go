//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd && !windows

package main

// fdIsTerminal is false where drvsim knows no terminal request: no prompt,
// no progress line.
func fdIsTerminal(uintptr) bool { return false }
