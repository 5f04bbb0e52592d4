package klib

import (
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// RCUKind is the trace kind of RCU events (read sections are not
// recorded; grace periods and kfree_rcu callbacks are).
const RCUKind trace.Kind = "rcu"

// Kernel is the state of one modelled kernel during one sim run: the Sim
// whose memory and scheduler the primitives use, and the global RCU
// state. Create one per run with New.
type Kernel struct {
	s     *sim.Sim
	rcu   rcuState
	count Counts
}

// New returns a kernel model running on s.
func New(s *sim.Sim) *Kernel {
	return &Kernel{s: s, rcu: rcuState{readers: map[string]*rcuReader{}}}
}

// Counts are how many times the kernel model ran each primitive a
// revocable read path is made of, since the run began: what an access
// costs, counted in a real run. Every field is a count of calls.
type Counts struct {
	// KrefGet counts kref_get (an atomic increment of the provider's
	// count: a write to a cache line every reader of the provider shares).
	KrefGet int
	// KrefGetUnlessZero counts kref_get_unless_zero (a compare-and-swap
	// loop on that line).
	KrefGetUnlessZero int
	// KrefPut counts kref_put (an atomic decrement on that line).
	KrefPut int
	// SRCULock and SRCUUnlock count srcu_read_lock and srcu_read_unlock
	// (per-CPU counters in the kernel: no shared line).
	SRCULock, SRCUUnlock int
	// RCULock counts rcu_read_lock (a preempt-count change: no shared
	// write).
	RCULock int
	// Kzalloc counts kzalloc.
	Kzalloc int
}

// Sub returns c minus d, field by field: the primitives run between two
// snapshots.
func (c Counts) Sub(d Counts) Counts {
	return Counts{
		KrefGet:           c.KrefGet - d.KrefGet,
		KrefGetUnlessZero: c.KrefGetUnlessZero - d.KrefGetUnlessZero,
		KrefPut:           c.KrefPut - d.KrefPut,
		SRCULock:          c.SRCULock - d.SRCULock,
		SRCUUnlock:        c.SRCUUnlock - d.SRCUUnlock,
		RCULock:           c.RCULock - d.RCULock,
		Kzalloc:           c.Kzalloc - d.Kzalloc,
	}
}

// SharedWrites returns the writes to the provider's shared reference
// count among the counted primitives: kref_get, kref_get_unless_zero and
// kref_put. (The model does not count the handle's own index store.)
func (c Counts) SharedWrites() int { return c.KrefGet + c.KrefGetUnlessZero + c.KrefPut }

// Counts returns the primitives run so far.
func (k *Kernel) Counts() Counts { return k.count }

// Preempt is a schedule point where the kernel may preempt the running
// task between two instructions (CONFIG_PREEMPT): the model places one
// where a window matters, e.g. between loading a pointer and taking a
// reference through it. where names the spot for the schedule.
func (k *Kernel) Preempt(where string) {
	k.s.Yield(sched.Point{Kind: "preempt", Obj: where})
}

// MightSleep is might_sleep() in the current task: a BUG report when the
// task is in atomic context (holding a spinlock, in an interrupt handler).
func (k *Kernel) MightSleep(fn string) { k.s.Env().MightSleep(fn) }

// Sim returns the run the kernel model runs on.
func (k *Kernel) Sim() *sim.Sim { return k.s }

// Emit records an event on the run's trace.
func (k *Kernel) Emit(kind trace.Kind, fn, dev, msg string) {
	k.s.Log().Emit(trace.Event{Kind: kind, Func: fn, Dev: dev, Msg: msg})
}

// Warn records a WARN() splat on the run's trace (the kernel prints it and
// carries on).
func (k *Kernel) Warn(fn, msg string) { k.Emit(trace.Warn, fn, "", "WARNING: "+msg) }
