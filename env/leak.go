package env

import (
	"fmt"
	"strings"
)

// A simulated run ends with leak checks, as a kernel with kmemleak and
// the debugging options of its subsystems reports what was never given
// back: memory never freed, files never closed, consumers of a revoked
// resource left open, devres actions left on a device no driver is bound
// to, device references never put, URBs left in flight. The simulator
// cannot know the components above it, so each component registers the
// checks of its objects with the machine's environment (AddLeakCheck),
// recording where each object was taken (Origin); the simulator runs them
// when a run ends without another failure. A test opts out of one check by
// name (sim.Config.NoLeakChecks).
//
// The names the framework uses:
const (
	LeakMemory     = "memory"      // simulated allocations never freed (kmemleak)
	LeakDevres     = "devres"      // actions on a device with no driver bound
	LeakDeviceRefs = "device refs" // references on a device not registered any more
	LeakRevocable  = "revocable"   // consumers left open on a revoked provider
	LeakURBs       = "urbs"        // URBs in flight on a device no driver is bound to
	LeakFiles      = "files"       // files never closed (the character-device layer)
)

// LeakCheck is one registered end-of-run check: Check returns one line per
// leaked thing, saying what it is and where it was taken.
type LeakCheck struct {
	Name  string
	Check func() []string
}

// AddLeakCheck registers check under name (LeakDevres, LeakRevocable, ...
// or a test's own). In the plain environment nothing runs the checks; a
// component registers them only when e.Simulated(), so that a machine of
// real goroutines pays nothing.
func (e *Env) AddLeakCheck(name string, check func() []string) {
	e.mu.Lock()
	e.leakChecks = append(e.leakChecks, LeakCheck{Name: name, Check: check})
	e.mu.Unlock()
}

// LeakChecks returns the registered checks, in registration order.
func (e *Env) LeakChecks() []LeakCheck {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]LeakCheck(nil), e.leakChecks...)
}

// Origin records where something was taken or allocated: the task, the
// sequence number the next trace event gets, and the call sites, kept as
// program counters and resolved only when printed.
type Origin struct {
	Task string
	Seq  uint64
	pcs  []uintptr
}

// Origin returns where its caller was called from (the caller's caller
// and beyond; skip more frames with skip > 0).
func (e *Env) Origin(skip int) Origin {
	return Origin{Task: e.Current(), Seq: e.Log().Seq() + 1, pcs: callerPCs(skip + 1)}
}

// Frames returns the call sites, as Callers does.
func (o Origin) Frames() []string { return frames(o.pcs) }

// Site returns the first call site on one line ("pkg.Func (file.go:12)"),
// "" when there is none.
func (o Origin) Site() string {
	if f := o.Frames(); len(f) > 0 {
		return strings.TrimSpace(f[0])
	}
	return ""
}

// String renders the origin as reports print it:
//
//	by task reader at trace seq 12:
//	    pkg.Func (file.go:12)
func (o Origin) String() string {
	return fmt.Sprintf("by task %s at trace seq %d:\n%s", OrSetup(o.Task), o.Seq, strings.Join(o.Frames(), "\n"))
}
