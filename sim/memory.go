package sim

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/drvsim/drvsim/trace"
)

// Mem is the trace kind of simulated allocations and frees.
const Mem trace.Kind = "mem"

// maxFrames bounds the call sites printed per origin in a report.
const maxFrames = 4

// Memory is an arena of simulated allocations checked the way KASAN checks
// the kernel's slab: every Object remembers who allocated and who freed it,
// and an access to a freed object, or a second free, produces a report
// naming the tasks and call sites involved.
//
// A Sim owns one Memory (Sim.Memory); there a bug fails the run (or, before
// or after Run, panics with the *Report). A Memory from NewMemory stands
// alone for plain tests: it records its reports (Reports) and carries on,
// as KASAN does by default, or panics with the first one when
// SetPanicOnBug(true) is set (kasan.fault=panic). There is no package-level
// state: each arena is independent.
type Memory struct {
	mu         sync.Mutex
	sim        *Sim
	log        *trace.Log
	objs       []*Object
	reports    []*Report
	panicOnBug bool
}

// NewMemory returns a stand-alone arena recording into log (may be nil).
func NewMemory(log *trace.Log) *Memory { return &Memory{log: log} }

// SetPanicOnBug makes a stand-alone arena panic with the report instead of
// recording it and continuing (kasan.fault=panic).
func (m *Memory) SetPanicOnBug(on bool) {
	m.mu.Lock()
	m.panicOnBug = on
	m.mu.Unlock()
}

// Memory returns the Sim's arena.
func (s *Sim) Memory() *Memory { return s.mem }

// Alloc allocates a simulated object from the Sim's arena; see
// (*Memory).Alloc.
func (s *Sim) Alloc(name string) *Object { return s.mem.alloc(name, 3) }

// Object is one simulated allocation (a kmalloc'ed struct). Drivers call
// Access before touching the state it stands for, and Free when they would
// kfree it.
type Object struct {
	m     *Memory
	id    int
	name  string
	freed bool
	alloc origin
	free  origin
}

// origin records where an object was allocated or freed.
type origin struct {
	task   string
	seq    uint64
	frames []string
}

func (o origin) String() string {
	return fmt.Sprintf("by task %s at trace seq %d:\n%s", orSetup(o.task), o.seq, strings.Join(o.frames, "\n"))
}

// Alloc allocates a simulated object named name (kmalloc), recording the
// allocating task and call site.
func (m *Memory) Alloc(name string) *Object { return m.alloc(name, 3) }

func (m *Memory) alloc(name string, skip int) *Object {
	o := &Object{m: m, name: name}
	o.alloc = m.origin(skip)
	m.mu.Lock()
	o.id = len(m.objs) + 1
	m.objs = append(m.objs, o)
	m.mu.Unlock()
	e := m.log.Emit(trace.Event{Kind: Mem, Func: "kmalloc", Msg: o.label()})
	o.alloc.seq = e.Seq
	return o
}

func (m *Memory) current() string {
	if m.sim != nil {
		return m.sim.Current()
	}
	return ""
}

func (m *Memory) origin(skip int) origin {
	return origin{task: m.current(), seq: m.log.Seq() + 1, frames: callers(skip + 1)}
}

func (o *Object) label() string { return fmt.Sprintf("%s (object #%d)", o.name, o.id) }

// Name returns the name the object was allocated with.
func (o *Object) Name() string { return o.name }

// Freed reports whether the object has been freed. It is not a check: use
// Access before touching the object.
func (o *Object) Freed() bool {
	o.m.mu.Lock()
	defer o.m.mu.Unlock()
	return o.freed
}

// Access checks an access (described by what, e.g. "read urb->status") to
// the object, as KASAN's instrumentation checks every load and store. On a
// freed object it reports a use-after-free.
func (o *Object) Access(what string) {
	o.m.mu.Lock()
	freed := o.freed
	o.m.mu.Unlock()
	if !freed {
		return
	}
	at := o.m.origin(2)
	o.m.report(&Report{
		Kind:  BugUseAfterFree,
		Title: "BUG: KASAN: use-after-free in " + what,
		Task:  at.task,
		Details: fmt.Sprintf("Access (%s) to freed object %s %s\n\nAllocated %s\n\nFreed %s\n",
			what, o.label(), at, o.alloc, o.free),
	})
}

// Free frees the object (kfree): later Accesses are use-after-free. Freeing
// twice is reported as a double free.
func (o *Object) Free() {
	at := o.m.origin(2)
	o.m.mu.Lock()
	freed := o.freed
	if !freed {
		o.freed = true
		o.free = at
	}
	o.m.mu.Unlock()
	if freed {
		o.m.report(&Report{
			Kind:  BugDoubleFree,
			Title: "BUG: KASAN: double-free in kfree " + o.name,
			Task:  at.task,
			Details: fmt.Sprintf("Second free of object %s %s\n\nAllocated %s\n\nFirst freed %s\n",
				o.label(), at, o.alloc, o.free),
		})
		return
	}
	e := o.m.log.Emit(trace.Event{Kind: Mem, Func: "kfree", Msg: o.label()})
	o.m.mu.Lock()
	o.free.seq = e.Seq
	o.m.mu.Unlock()
}

func (m *Memory) report(r *Report) {
	m.mu.Lock()
	m.reports = append(m.reports, r)
	panicOnBug := m.panicOnBug
	m.mu.Unlock()
	if m.sim != nil {
		m.sim.bug(r)
		return
	}
	m.log.Emit(trace.Event{Kind: trace.Warn, Func: "kasan_report", Msg: r.Title})
	if panicOnBug {
		panic(r)
	}
}

// Reports returns the bug reports recorded so far.
func (m *Memory) Reports() []*Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Report(nil), m.reports...)
}

// Live returns the objects not freed, in allocation order.
func (m *Memory) Live() []*Object {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Object
	for _, o := range m.objs {
		if !o.freed {
			out = append(out, o)
		}
	}
	return out
}

// Leaks describes every object never freed, as kmemleak would
// ("unreferenced object").
func (m *Memory) Leaks() []string {
	var out []string
	for _, o := range m.Live() {
		out = append(out, fmt.Sprintf("unreferenced object %s, allocated %s", o.label(), o.alloc))
	}
	return out
}

// Value is a typed simulated allocation: a value of type T whose every Load
// and Store is checked like Object.Access.
type Value[T any] struct {
	obj *Object
	v   T
}

// NewValue allocates a Value holding v from the arena m.
func NewValue[T any](m *Memory, name string, v T) *Value[T] {
	return &Value[T]{obj: m.alloc(name, 3), v: v}
}

// Load checks the access and returns the value (the stale value after a
// use-after-free in a stand-alone arena).
func (x *Value[T]) Load(what string) T {
	x.obj.Access(what)
	return x.v
}

// Store checks the access and replaces the value.
func (x *Value[T]) Store(what string, v T) {
	x.obj.Access(what)
	x.v = v
}

// Free frees the value's allocation.
func (x *Value[T]) Free() { x.obj.Free() }

// Object returns the underlying allocation.
func (x *Value[T]) Object() *Object { return x.obj }

// callers returns up to maxFrames call sites of the caller's callers,
// skipping frames of package sim itself and of the runtime and testing.
func callers(skip int) []string {
	var pcs [32]uintptr
	n := runtime.Callers(skip+1, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	var out []string
	for {
		f, more := frames.Next()
		if f.Function == setupFrame || f.Function == taskFrame {
			break // the frames beyond are Run's caller or the goroutine start
		}
		if f.Function != "" && !internalFrame(f.Function) {
			out = append(out, fmt.Sprintf("    %s (%s:%d)", shortFunc(f.Function), filepath.Base(f.File), f.Line))
			if len(out) == maxFrames {
				break
			}
		}
		if !more {
			break
		}
	}
	return out
}

// The functions that call a scenario and a task's function.
const (
	setupFrame = "github.com/drvsim/drvsim/sim.(*Sim).setup"
	taskFrame  = "github.com/drvsim/drvsim/sim.(*Sim).taskMain"
)

func internalFrame(fn string) bool {
	return strings.HasPrefix(fn, "github.com/drvsim/drvsim/sim.") ||
		strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "testing.")
}

// shortFunc drops the import path of a function name:
// "github.com/drvsim/drvsim/sim_test.TestX.func1" -> "sim_test.TestX.func1".
func shortFunc(fn string) string {
	if i := strings.LastIndex(fn, "/"); i >= 0 {
		return fn[i+1:]
	}
	return fn
}

func baseFile(file string) string {
	if i := strings.LastIndex(file, "/"); i >= 0 {
		return file[i+1:]
	}
	return file
}
