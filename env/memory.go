package env

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/trace"
)

// Mem is the trace kind of simulated allocations and frees.
const Mem trace.Kind = "mem"

// Memory is an arena of simulated allocations checked the way KASAN checks
// the kernel's slab: every Object remembers who allocated and who freed it,
// and an access to a freed object, or a second free, produces a Report
// naming the tasks and call sites involved. Every Env has one (Env.Memory).
//
// Under a simulator a bug fails the run. In the plain environment the
// report is recorded (Reports, Env.Reports) and the caller carries on, as
// KASAN does by default, or the arena panics with it when SetPanicOnBug is
// set (kasan.fault=panic).
type Memory struct {
	env *Env

	mu         sync.Mutex
	objs       []*Object
	live       int
	reports    []*Report
	panicOnBug bool
}

// SetPanicOnBug makes the arena panic with the report instead of recording
// it and continuing (kasan.fault=panic). It has no effect under a
// simulator, where a report always fails the run.
func (m *Memory) SetPanicOnBug(on bool) {
	m.mu.Lock()
	m.panicOnBug = on
	m.mu.Unlock()
}

// Object is one simulated allocation (a kmalloc'ed struct). Drivers call
// Access before touching the state it stands for, and Free when they would
// kfree it.
type Object struct {
	m     *Memory
	id    int
	name  string
	freed bool
	alloc Origin
	free  Origin
}

// Alloc allocates a simulated object named name (kmalloc), recording the
// allocating task and call site.
func (m *Memory) Alloc(name string) *Object { return m.alloc(name) }

func (m *Memory) alloc(name string) *Object {
	o := &Object{m: m, name: name}
	o.alloc = m.origin()
	m.mu.Lock()
	o.id = len(m.objs) + 1
	m.objs = append(m.objs, o)
	m.live++
	m.mu.Unlock()
	e := m.env.log.Emit(trace.Event{Kind: Mem, Func: "kmalloc", Msg: o.label()})
	o.alloc.Seq = e.Seq
	return o
}

// origin records the caller: the call sites beyond package env (and the
// simulator) that led here.
func (m *Memory) origin() Origin { return m.env.Origin(1) }

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
	at := o.m.origin()
	o.m.report(&Report{
		Kind:  BugUseAfterFree,
		Title: "BUG: KASAN: use-after-free in " + what,
		Task:  at.Task,
		Details: fmt.Sprintf("Access (%s) to freed object %s %s\n\nAllocated %s\n\nFreed %s\n",
			what, o.label(), at, o.alloc, o.free),
	})
}

// Free frees the object (kfree): later Accesses are use-after-free. Freeing
// twice is reported as a double free.
func (o *Object) Free() {
	at := o.m.origin()
	o.m.mu.Lock()
	freed := o.freed
	if !freed {
		o.freed = true
		o.free = at
		o.m.live--
	}
	o.m.mu.Unlock()
	if freed {
		o.m.report(&Report{
			Kind:  BugDoubleFree,
			Title: "BUG: KASAN: double-free in kfree " + o.name,
			Task:  at.Task,
			Details: fmt.Sprintf("Second free of object %s %s\n\nAllocated %s\n\nFirst freed %s\n",
				o.label(), at, o.alloc, o.free),
		})
		return
	}
	e := o.m.env.log.Emit(trace.Event{Kind: Mem, Func: "kfree", Msg: o.label()})
	o.m.mu.Lock()
	o.free.Seq = e.Seq
	o.m.mu.Unlock()
}

func (m *Memory) report(r *Report) {
	m.mu.Lock()
	m.reports = append(m.reports, r)
	panicOnBug := m.panicOnBug
	m.mu.Unlock()
	m.env.Report("kasan_report", r)
	if panicOnBug {
		panic(r)
	}
}

// Reports returns the memory bugs reported so far.
func (m *Memory) Reports() []*Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Report(nil), m.reports...)
}

// Live returns the objects not freed, in allocation order.
func (m *Memory) Live() []*Object {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Object, 0, m.live)
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
	return &Value[T]{obj: m.alloc(name), v: v}
}

// Load checks the access and returns the value (the stale value after a
// use-after-free in the plain environment).
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
