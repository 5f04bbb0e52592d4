// Package sched is the scheduler seam of drvsim: the interface through which
// every synchronization point of the framework (SRCU read lock and unlock,
// grace-period waits, the device lock, devres actions, notifier calls, URB
// submission) reports itself, so that a deterministic scheduler can decide
// which simulated task runs next, block a task until its condition holds,
// and inject faults.
//
// Outside a controlled run a component's Scheduler is nil and every point
// costs one nil check. The kernel's counterpart is the set of places where a
// task may sleep or be preempted (might_sleep, cond_resched, the lock and
// completion primitives), together with fault injection (should_failslab,
// fail_function). A Scheduler that can also start tasks for a component
// (kthread_run, async_schedule) implements Spawner.
package sched

import (
	"fmt"
	"time"
)

// Point describes one schedule point: which primitive reached it and which
// kernel function it models.
type Point struct {
	// Kind names the primitive, e.g. "srcu_read_lock", "device_lock",
	// "devres", "notify", "yield".
	Kind string
	// Func is the kernel function being modelled, e.g. "really_probe".
	Func string
	// Obj names the object involved (a device path, a provider name).
	Obj string
}

// String renders the point as "kind func obj", with func left out when it
// repeats kind ("mutex_lock io_mutex", not "mutex_lock mutex_lock io_mutex").
func (p Point) String() string {
	s := p.Kind
	if p.Func != "" && p.Func != p.Kind {
		s += " " + p.Func
	}
	if p.Obj != "" {
		s += " " + p.Obj
	}
	return s
}

// Wait describes why a task blocks: what it waits for and, when known, which
// task holds it. A deadlock report prints the chain of Waits.
type Wait struct {
	// What the task waits for, e.g. "synchronize_srcu provider0" or
	// "device_lock /sys/devices/platform/foo".
	What string
	// Holder returns the name of the task holding what is waited for, or ""
	// when unknown; it is called only when a report is printed.
	Holder func() string
}

// Scheduler is implemented by the deterministic scheduler of a controlled
// run. Components hold a Scheduler that is nil outside such a run.
type Scheduler interface {
	// Yield is a schedule point: the calling task may be preempted here.
	Yield(p Point)
	// Block parks the calling task until ready() returns true. ready is
	// evaluated by the scheduler, with no other task running, whenever it
	// chooses the next task. It must not block.
	Block(w Wait, ready func() bool)
	// Fault reports whether the named fault point fails on this hit; the
	// returned error (non-nil) is what the failing operation returns.
	Fault(point string) error
	// Current names the running simulated task ("" for none).
	Current() string
}

// FaultPoint names of the framework; drivers may declare their own.
const (
	FaultDevresAdd = "devres_add" // devres_alloc failing with -ENOMEM
)

// Probe returns the fault point name for the probe of the named driver.
func Probe(driver string) string { return fmt.Sprintf("probe:%s", driver) }

// Clock is implemented by a Scheduler with a virtual clock of its own (the
// deterministic simulator): time that moves only when every task is
// blocked, so that sleeps and timeouts replay exactly.
type Clock interface {
	// Now is the virtual time since the run started (ktime_get).
	Now() time.Duration
	// Sleep parks the calling task for d of virtual time (msleep).
	Sleep(d time.Duration)
	// BlockTimeout is Block with a timeout (wait_event_timeout): true when
	// ready() held, false when d elapsed first.
	BlockTimeout(w Wait, ready func() bool, d time.Duration) bool
}
