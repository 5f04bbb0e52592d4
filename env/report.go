package env

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
)

// BugKind classifies a Report.
type BugKind string

// Report kinds, after the kernel facility that would print them.
const (
	BugUseAfterFree BugKind = "use-after-free" // KASAN: slab-use-after-free
	BugDoubleFree   BugKind = "double-free"    // KASAN: double-free
	BugDeadlock     BugKind = "deadlock"       // hung_task / lockdep circular locking
	BugLockdep      BugKind = "lockdep"        // recursive locking, bad unlock, sleeping in atomic context
	BugStepBound    BugKind = "step-bound"     // soft lockup / livelock
	BugPanic        BugKind = "panic"          // Oops: a task panicked
	BugLeak         BugKind = "leak"           // kmemleak and registered leak checks
	BugReplay       BugKind = "replay"         // a replayed schedule diverged
	BugHung         BugKind = "hung-task"      // a task blocked longer than the hung-task limit
	BugLivelock     BugKind = "livelock"       // work that retries itself for ever (a probe deferral loop)
)

// Report is one bug the simulated kernel found, printed like the kernel's
// splat for it. It implements error. Under a simulator a Report fails the
// run; in the plain environment it is recorded (Env.Reports) and a
// trace.Warn event carries its title.
type Report struct {
	// Kind classifies the bug.
	Kind BugKind
	// Title is the first line, e.g. "BUG: KASAN: use-after-free in read".
	Title string
	// Task names the task that hit the bug ("" for none or setup code).
	Task string
	// Details are the lines after the title: call sites, tasks, wait-for
	// chain.
	Details string
	// Step is the number of schedule points taken before the bug (under a
	// simulator); Seq the trace sequence number at the bug.
	Step int
	Seq  uint64
	// Err is the error the bug stands for, when there is one: the *Oops
	// of a BugPanic report filed by Env.Oops. errors.Is and errors.As on
	// the Report see it.
	Err error
}

// Error returns the report's title.
func (r *Report) Error() string { return r.Title }

// Unwrap returns Err.
func (r *Report) Unwrap() error { return r.Err }

const ruler = "=================================================================="

// String renders the report between ruler lines, as the kernel does.
func (r *Report) String() string {
	var b strings.Builder
	b.WriteString(ruler + "\n")
	b.WriteString(r.Title + "\n")
	b.WriteString(r.Details)
	if r.Details != "" && !strings.HasSuffix(r.Details, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(ruler + "\n")
	return b.String()
}

// OrSetup names a task for a report: "<setup>" for the code that runs
// before and around the tasks (the empty name).
func OrSetup(name string) string {
	if name == "" {
		return "<setup>"
	}
	return name
}

// MaxFrames bounds the call sites printed per origin in a report.
const MaxFrames = 4

// frameStops are the functions that call a scenario or a task's function:
// the frames beyond them are the simulator's own plumbing. A simulator
// registers them with StopFramesAt.
var frameStops = map[string]bool{}

// StopFramesAt registers functions whose frame ends the call sites a
// report prints (the simulator's task entry and setup functions). It is
// meant for package init functions.
func StopFramesAt(fns ...string) {
	for _, fn := range fns {
		frameStops[fn] = true
	}
}

// internalPrefixes are the packages whose frames reports leave out.
var internalPrefixes = []string{
	"github.com/drvsim/drvsim/env.",
	"github.com/drvsim/drvsim/sim.",
	"runtime.",
	"testing.",
}

func internalFrame(fn string) bool {
	for _, p := range internalPrefixes {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// Callers returns up to MaxFrames call sites of its caller's callers
// (skip more frames with skip > 0), as "    pkg.Func (file.go:12)", leaving
// out the frames of the simulator, of package env, the runtime and
// testing: the call sites a report prints.
func Callers(skip int) []string {
	var pcs [32]uintptr
	n := runtime.Callers(skip+3, pcs[:])
	return frames(pcs[:n])
}

// callerPCs records the program counters of its caller's callers (skip
// more with skip > 0), for frames to resolve only if a report needs them:
// the cheap half of Callers.
func callerPCs(skip int) []uintptr {
	var pcs [16]uintptr
	n := runtime.Callers(skip+3, pcs[:])
	return append([]uintptr(nil), pcs[:n]...)
}

// frames resolves pcs to the call sites Callers returns.
func frames(pcs []uintptr) []string {
	frames := runtime.CallersFrames(pcs)
	var out []string
	for {
		f, more := frames.Next()
		if frameStops[f.Function] {
			break
		}
		if f.Function != "" && !internalFrame(f.Function) {
			out = append(out, fmt.Sprintf("    %s (%s:%d)", ShortFunc(f.Function), filepath.Base(f.File), f.Line))
			if len(out) == MaxFrames {
				break
			}
		}
		if !more {
			break
		}
	}
	return out
}

// ShortFunc drops the import path of a function name:
// "github.com/drvsim/drvsim/sim_test.TestX.func1" -> "sim_test.TestX.func1".
func ShortFunc(fn string) string {
	if i := strings.LastIndex(fn, "/"); i >= 0 {
		return fn[i+1:]
	}
	return fn
}
