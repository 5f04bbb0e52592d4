package env

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/drvsim/drvsim/trace"
)

// An oops is what the kernel prints when kernel code faults: a NULL
// pointer dereference, a BUG(), a divide error. The kernel kills the task
// that faulted, in the middle of whatever it was doing, and the locks it
// held stay held ("Oops ... [#1]", then a machine that slowly wedges).
//
// drvsim runs user drivers that are buggy on purpose, so a panic in a
// driver callback (probe, remove, shutdown, a devres action, a notifier)
// must not wedge the simulated machine nor kill the process. The code that
// calls a callback recovers the panic and hands it to Env.Oops, which
// turns it into an *Oops: one trace.Oops event in the kernel's words, a
// Report of kind BugPanic, and an error that matches ErrOops. The caller
// then unwinds cleanly (a probe that oopsed counts as failed and its devres
// is released; the remaining devres actions still run; locks are released
// with defer) and the rest of the machine goes on.
//
// Under a simulator the oops also fails the run (it is a bug the explorer
// must report), but only once the caller has restored the machine's
// invariants: see Postpone.

// ErrOops is matched, with errors.Is, by every error a panicking callback
// becomes (an *Oops).
var ErrOops = errors.New("Oops: a callback panicked")

// OopsSite says which callback panicked, for an Oops: the kernel function
// that called it and the device and driver concerned.
type OopsSite struct {
	// Func is the kernel function that called the callback, e.g.
	// "call_driver_probe", "device_remove", "devm_action_release".
	Func string
	// Callback names what panicked, e.g. "probe", "remove",
	// "devres action clk_disable", "bus notifier BUS_NOTIFY_ADD_DEVICE".
	Callback string
	// Dev is the device's sysfs path, Driver the driver's name ("" when
	// none).
	Dev, Driver string
}

// Oops is a recovered panic of simulated kernel code. It is an error:
// errors.Is(o, ErrOops) holds, and when the panic value is an error (a
// runtime.Error for a nil dereference, a driver's own error) errors.Is and
// errors.As see it too.
type Oops struct {
	OopsSite
	// N numbers the machine's oopses from 1 (the kernel's "[#N]").
	N int
	// Title is the kernel's first line for the fault, e.g. "BUG: kernel
	// NULL pointer dereference" or "kernel BUG at probe.go:12!".
	Title string
	// Task names the task that oopsed (Env.Holder's String).
	Task string
	// Value is the panic value.
	Value any
	// Trace is the call trace from the panic site, at most MaxFrames
	// frames, each "    pkg.Func (file.go:12)".
	Trace []string
}

// Error renders the oops on one line: its title, what panicked and the
// panic value.
func (o *Oops) Error() string {
	return fmt.Sprintf("%s in %s: Oops [#%d]: %v", o.Title, o.where(), o.N, o.Value)
}

func (o *Oops) where() string {
	if o.Driver != "" {
		return o.Callback + " of driver " + o.Driver
	}
	return o.Callback
}

// Is reports whether target is ErrOops.
func (o *Oops) Is(target error) bool { return target == ErrOops }

// Unwrap returns the panic value when it is an error.
func (o *Oops) Unwrap() error {
	if err, ok := o.Value.(error); ok {
		return err
	}
	return nil
}

// Unwinding reports whether v, a value recover returned, is a simulator
// unwinding a task of a failed run (see Bugger). Code that recovers
// panics must panic again with such a value, and Env.Oops does.
func Unwinding(v any) bool {
	_, ok := v.(interface{ EnvUnwind() })
	return ok
}

// oopsState numbers the oopses of an Env.
type oopsState struct {
	n atomic.Int64
}

// Oops turns v, the value recover returned in a deferred call around a
// callback, into an *Oops, and records it: one trace.Oops event now, in
// the kernel's words ("BUG: kernel NULL pointer dereference in probe of
// driver foo: Oops [#1]: runtime error: ..."), and a Report of kind
// BugPanic whose Err is the Oops. In the plain environment the report is
// kept (Reports) and Oops returns, so the caller can clean up and carry
// on. Under a simulator the report fails the run: at once when the caller
// is outside a postponed stretch, else when the stretch ends (Postpone).
//
// A value that is a simulator's unwind (Unwinding) is not an oops, nor is a
// *Report (a sanitizer told to panic, Memory.SetPanicOnBug, or a simulator
// reporting outside its run): Oops panics with it again. Call Oops from
// the deferred function that recovered, so that its call trace starts at
// the panic.
func (e *Env) Oops(v any, at OopsSite) *Oops {
	if _, report := v.(*Report); report || Unwinding(v) {
		panic(v)
	}
	frames, site := panicFrames()
	o := &Oops{OopsSite: at, N: int(e.oops.n.Add(1)), Value: v, Trace: frames, Task: e.Holder().String()}
	o.Title = oopsTitle(v, site)
	e.Log().Emit(trace.Event{Kind: trace.Oops, Dev: at.Dev, Func: at.Func, Msg: fmt.Sprintf("%s in %s: Oops [#%d]: %v", o.Title, o.where(), o.N, v)})
	var b strings.Builder
	fmt.Fprintf(&b, "Oops [#%d]\n", o.N)
	fmt.Fprintf(&b, "task: %s", OrSetup(e.Current()))
	if e.Current() == "" {
		fmt.Fprintf(&b, " (%s)", o.Task)
	}
	b.WriteByte('\n')
	if at.Dev != "" {
		fmt.Fprintf(&b, "device: %s\n", at.Dev)
	}
	if at.Driver != "" {
		fmt.Fprintf(&b, "driver: %s\n", at.Driver)
	}
	fmt.Fprintf(&b, "callback: %s, called from %s\n", at.Callback, at.Func)
	fmt.Fprintf(&b, "panic: %v\n", v)
	b.WriteString("Call trace:\n")
	for _, f := range frames {
		b.WriteString(f + "\n")
	}
	b.WriteString("drvsim recovered the panic: the callback's caller unwound cleanly and the machine goes on\n" +
		"(the kernel would have killed the task and left its locks held).\n")
	r := &Report{Kind: BugPanic, Title: o.Title + " in " + o.where(), Details: b.String(), Err: o}
	e.file("oops", r, true)
	return o
}

// oopsTitle names the fault in the kernel's words.
func oopsTitle(v any, site string) string {
	if re, ok := v.(runtime.Error); ok {
		msg := re.Error()
		switch {
		case strings.Contains(msg, "nil pointer dereference"):
			return "BUG: kernel NULL pointer dereference"
		case strings.Contains(msg, "out of range"):
			return "BUG: unable to handle page fault"
		case strings.Contains(msg, "divide by zero"):
			return "Oops: divide error"
		}
		return "Oops: invalid opcode"
	}
	if site != "" {
		return "kernel BUG at " + site + "!"
	}
	return "kernel BUG"
}

// panicFrames returns the call trace of the panic being recovered (the
// frames from the panic site outwards, without the runtime's, env's and
// the simulator's) and the panic site as "file.go:12". It must run inside
// the deferred call that recovered.
func panicFrames() (frames []string, site string) {
	var pcs [48]uintptr
	n := runtime.Callers(2, pcs[:])
	fs := runtime.CallersFrames(pcs[:n])
	sawPanic := false
	for {
		f, more := fs.Next()
		if !sawPanic {
			if f.Function == "runtime.gopanic" {
				sawPanic = true
			}
			if !more {
				break
			}
			continue
		}
		if frameStops[f.Function] {
			break
		}
		if f.Function != "" && !internalFrame(f.Function) {
			if site == "" {
				site = fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
			}
			frames = append(frames, fmt.Sprintf("    %s (%s:%d)", ShortFunc(f.Function), filepath.Base(f.File), f.Line))
			if len(frames) == MaxFrames {
				break
			}
		}
		if !more {
			break
		}
	}
	return frames, site
}

// postponed holds, per task of a simulated run, the depth of its
// postponed stretches and the reports filed meanwhile.
type postponed struct {
	mu    sync.Mutex
	tasks map[Owner]*postponedTask
}

type postponedTask struct {
	depth   int
	reports []*Report
}

// PostponeBegin starts a postponed stretch of the calling task: until the
// matching PostponeEnd, a report filed with ReportPostponed (or an Oops)
// does not fail the run at once. Stretches nest. The driver core brackets
// every top-level operation with one, so that a driver's oops fails the
// run only after the core has released the device lock, unwound the
// probe, run the remaining devres actions and left the machine
// consistent. In the plain environment, where a report never unwinds the
// caller, it does nothing.
func (e *Env) PostponeBegin() {
	if e == nil || e.bugger == nil {
		return
	}
	me := e.Self()
	e.post.mu.Lock()
	if e.post.tasks == nil {
		e.post.tasks = map[Owner]*postponedTask{}
	}
	t := e.post.tasks[me]
	if t == nil {
		t = &postponedTask{}
		e.post.tasks[me] = t
	}
	t.depth++
	e.post.mu.Unlock()
}

// PostponeEnd ends the calling task's innermost postponed stretch. Ending
// the outermost one files the reports filed meanwhile, the first of which
// fails the run and, under a simulator, unwinds the caller: call it last,
// typically deferred first.
func (e *Env) PostponeEnd() {
	if e == nil || e.bugger == nil {
		return
	}
	me := e.Self()
	e.post.mu.Lock()
	t := e.post.tasks[me]
	if t == nil {
		e.post.mu.Unlock()
		return
	}
	t.depth--
	if t.depth > 0 {
		e.post.mu.Unlock()
		return
	}
	delete(e.post.tasks, me)
	e.post.mu.Unlock()
	for _, r := range t.reports {
		e.bugger.Bug(r) // the first unwinds a task; outside one, each is recorded
	}
}

// ReportPostponed is Report for a bug found while the caller restores
// invariants: under a simulator, inside a postponed stretch of the calling
// task, the report waits for the end of the outermost stretch
// (PostponeEnd); otherwise it is Report.
func (e *Env) ReportPostponed(fn string, r *Report) {
	if r.Task == "" {
		r.Task = e.Current()
	}
	if e.bugger == nil {
		e.Report(fn, r)
		return
	}
	e.file(fn, r, false)
}

// file files r: under a simulator, postponed when the calling task is in
// a postponed stretch, else at once (Bug); in the plain environment it is
// kept, with a trace.Warn event unless quiet (an Oops has emitted its own
// event).
func (e *Env) file(fn string, r *Report, quiet bool) {
	if r.Task == "" {
		r.Task = e.Current()
	}
	if e.bugger != nil {
		me := e.Self()
		e.post.mu.Lock()
		if t := e.post.tasks[me]; t != nil {
			t.reports = append(t.reports, r)
			e.post.mu.Unlock()
			return
		}
		e.post.mu.Unlock()
		e.bugger.Bug(r)
		return
	}
	if quiet {
		r.Seq = e.log.Seq()
		e.keep(r)
		return
	}
	e.Report(fn, r)
}
