// Package goid returns the identity of the calling goroutine. drvsim uses it
// only on slow paths (lock contention, debug checks) to report what the
// kernel's lockdep would: a task about to wait for something it holds itself.
package goid

import (
	"bytes"
	"runtime"
	"strconv"
)

// Get returns the calling goroutine's id, parsed from runtime.Stack. It
// costs about a microsecond; never call it on a fast path.
func Get() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := bytes.TrimPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0
	}
	return id
}
