package env

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// Holder is lockdep's record of who holds a lock: the owning task's
// identity, and its name under a simulator. Locks keep one while held.
type Holder struct {
	// Owner is the holder's identity (Env.Self at acquisition).
	Owner Owner
	// Task is the holder's simulated task name ("" outside a simulator or
	// for setup code).
	Task string
}

// Holder returns the calling task's record, to keep in a lock it takes.
func (e *Env) Holder() Holder { return Holder{Owner: e.Self(), Task: e.Current()} }

// IsSelf reports whether the calling task is h.
func (e *Env) IsSelf(h Holder) bool { return h.Owner != 0 && h.Owner == e.Self() }

// String names the holder for reports: its task, or its goroutine.
func (h Holder) String() string {
	if h.Task != "" {
		return h.Task
	}
	if h.Owner == 0 {
		return "nobody"
	}
	return fmt.Sprintf("goroutine %d", uint64(h.Owner))
}

// lockdepState tracks the tasks in atomic context (holding a spinlock, in
// an interrupt handler): the kernel's preempt_count, per task.
type lockdepState struct {
	inAtomic atomic.Int32 // tasks in atomic context: 0 keeps MightSleep free
	mu       sync.Mutex
	ctx      map[Owner][]string // per task, what made it atomic, innermost last
}

// EnterAtomic marks the calling task as in atomic context because of what
// ("spinlock usb_hcd_lock", "hardirq 17"): spin_lock, local_irq_disable,
// or an interrupt handler's entry. Calls nest.
func (e *Env) EnterAtomic(what string) {
	if e == nil || !e.lockdep {
		return
	}
	me := e.Self()
	e.ld.mu.Lock()
	if e.ld.ctx == nil {
		e.ld.ctx = map[Owner][]string{}
	}
	if len(e.ld.ctx[me]) == 0 {
		e.ld.inAtomic.Add(1)
	}
	e.ld.ctx[me] = append(e.ld.ctx[me], what)
	e.ld.mu.Unlock()
}

// ExitAtomic leaves the innermost atomic context EnterAtomic entered.
func (e *Env) ExitAtomic() {
	if e == nil || !e.lockdep {
		return
	}
	me := e.Self()
	e.ld.mu.Lock()
	defer e.ld.mu.Unlock()
	st := e.ld.ctx[me]
	if len(st) == 0 {
		return
	}
	if len(st) == 1 {
		delete(e.ld.ctx, me)
		e.ld.inAtomic.Add(-1)
		return
	}
	e.ld.ctx[me] = st[:len(st)-1]
}

// Atomic returns what holds the calling task in atomic context, innermost
// last; empty when it may sleep (or lockdep is off).
func (e *Env) Atomic() []string {
	if e == nil || !e.lockdep || e.ld.inAtomic.Load() == 0 {
		return nil
	}
	e.ld.mu.Lock()
	defer e.ld.mu.Unlock()
	return append([]string(nil), e.ld.ctx[e.Self()]...)
}

// MightSleep is might_sleep: called by every primitive that can sleep
// (mutex_lock, wait_event, msleep, synchronize_srcu, ...) before it
// does. A task in atomic context gets lockdep's "BUG: sleeping function
// called from invalid context" report, naming fn and what made it atomic.
// With lockdep off, or no task in atomic context, it costs one atomic load.
func (e *Env) MightSleep(fn string) {
	ctx := e.Atomic()
	if len(ctx) == 0 {
		return
	}
	e.Report("lockdep", &Report{
		Kind:  BugLockdep,
		Title: "BUG: sleeping function called from invalid context at " + fn,
		Details: fmt.Sprintf("in_atomic(): 1, task: %s\natomic because of: %s\nCall trace:\n%s\n",
			OrSetup(e.Current()), strings.Join(ctx, ", "), strings.Join(Callers(1), "\n")),
	})
}
