// Package gid returns the calling goroutine's id (the number Go's stack
// traces print: "goroutine 7 [running]"), in about a nanosecond and without
// parsing a stack trace.
//
// The id is a field of the runtime's goroutine descriptor (its g). Get
// reads the descriptor's address from the g register (arm64) or its
// thread-local slot (amd64) with a two-instruction assembly function, then
// the id at an offset that init finds and verifies: it starts goroutines,
// learns each one's id once from runtime.Stack, and keeps the one offset
// in the descriptor that holds the id in every one of them. Where that
// fails (another architecture, a runtime whose descriptor changed beyond
// the scanned range), Get parses runtime.Stack on every call: correct,
// a thousand times slower, and Fast reports false.
//
// Ids are never reused: a goroutine's id names it alone for the life of
// the process, also after it exits.
package gid

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"unsafe"
)

// off is the offset of the id in the goroutine descriptor; ok is false
// when it could not be found and verified.
var off, ok = calibrate()

// Get returns the calling goroutine's id; never 0.
func Get() uint64 {
	if ok {
		return *(*uint64)(unsafe.Add(getg(), off))
	}
	return fromStack()
}

// Fast reports whether Get reads the descriptor (true) or parses
// runtime.Stack (false).
func Fast() bool { return ok }

// fromStack parses the goroutine id out of runtime.Stack.
func fromStack() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := bytes.TrimPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// scan bounds the offsets calibrate looks at: well inside the descriptor
// (several hundred bytes in every Go release), so that no read leaves it.
const scan = 256

// probes is how many goroutines must agree on the offset.
const probes = 8

// calibrate finds the one offset, below scan, at which the descriptor of
// each of several goroutines holds its id.
func calibrate() (uintptr, bool) {
	if getg() == nil {
		return 0, false
	}
	var cands map[uintptr]bool
	for range probes {
		var found []uintptr
		var wg sync.WaitGroup
		wg.Go(func() {
			id, g := fromStack(), getg()
			for o := uintptr(0); o+8 <= scan; o += 8 {
				if *(*uint64)(unsafe.Add(g, o)) == id {
					found = append(found, o)
				}
			}
		})
		wg.Wait()
		next := map[uintptr]bool{}
		for _, o := range found {
			if cands == nil || cands[o] {
				next[o] = true
			}
		}
		cands = next
	}
	if len(cands) != 1 {
		return 0, false
	}
	for o := range cands {
		return o, true
	}
	return 0, false
}
