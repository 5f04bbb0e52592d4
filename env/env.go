// Package env is the world simulated kernel code runs in: the trace log it
// records into, the scheduler that decides when it may be preempted and
// how it waits, the memory arena its allocations come from (with KASAN's
// checks), the virtual clock, and whether lockdep watches it.
//
// One Env belongs to one simulated machine. drvsim.NewSystem builds it
// (on the deterministic simulator with drvsim.OnSim, otherwise the plain
// environment of real goroutines); everything created for that machine,
// its devices, devres, locks, providers and subsystems, takes its Env from
// the machine or device it belongs to, never from an option a caller could
// forget. Package sim builds the Env of a simulated run (sim.Sim.Env).
//
// Layering: env imports trace and sched only. Simulators implement the
// sched interfaces; env never imports them.
package env

import (
	"sync"
	"sync/atomic"

	"github.com/drvsim/drvsim/internal/gid"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Host is anything that belongs to one simulated machine and can say
// which: a System, a driver core, a device, a subsystem, a simulated run.
// Constructors of the kernel library take a Host and use its Env.
type Host interface {
	// Env returns the environment; nil means the plain environment of a
	// fresh, untraced machine (see Of).
	Env() *Env
}

// Bugger is implemented by a simulator that turns a Report into a failed
// run: Bug records r as the run's failure and, when the caller is one of
// the run's tasks, unwinds it (it does not return). It unwinds with a
// panic whose value has a method EnvUnwind(), so that code recovering
// panics can tell it from an oops and let it through (Unwinding).
type Bugger interface {
	Bug(r *Report)
}

// Env is one simulated machine's environment. Create it with New (the
// plain environment) or get it from a simulator (sim.Sim.Env); it is fixed
// for its whole life. All methods are safe for concurrent use.
type Env struct {
	log     *trace.Log
	sch     sched.Scheduler
	spawner sched.Spawner
	sclock  sched.Clock
	bugger  Bugger
	lockdep bool

	clock clock
	mem   Memory
	ld    lockdepState
	loc   locals

	mu         sync.Mutex
	reports    []*Report
	nreports   atomic.Int64
	leakChecks []LeakCheck

	oops oopsState
	post postponed
	hung hungTask
}

// Option configures New.
type Option func(*Env)

// WithLog records into log instead of a fresh trace log.
func WithLog(log *trace.Log) Option { return func(e *Env) { e.log = log } }

// WithScheduler runs the environment on s: a deterministic simulator
// (package sim passes itself). Schedule points, blocking, fault points,
// task names, and, when s implements them, task spawning (sched.Spawner),
// the virtual clock (sched.Clock) and bug reports (Bugger) go through s.
// Only simulators use it: a machine on a simulator is built with
// drvsim.OnSim.
func WithScheduler(s sched.Scheduler) Option { return func(e *Env) { e.sch = s } }

// WithLockdep turns lockdep's checks on (the default) or off: lock owners,
// recursive locking, bad unlocks, sleeping in atomic context, and a
// revoke from inside its own read section. Off, misuse hangs or passes
// unseen, as on a kernel built without CONFIG_PROVE_LOCKING; large
// benchmarks turn it off.
func WithLockdep(on bool) Option { return func(e *Env) { e.lockdep = on } }

// New returns an environment: the plain one of real goroutines unless
// WithScheduler says otherwise, with a fresh trace log unless WithLog,
// and lockdep on unless WithLockdep(false).
func New(opts ...Option) *Env {
	e := &Env{lockdep: true}
	for _, o := range opts {
		o(e)
	}
	if e.log == nil {
		e.log = trace.NewLog()
	}
	if e.sch != nil {
		e.spawner, _ = e.sch.(sched.Spawner)
		e.sclock, _ = e.sch.(sched.Clock)
		e.bugger, _ = e.sch.(Bugger)
		e.log.SetTaskFunc(e.sch.Current)
	}
	e.mem.env = e
	e.hung.init()
	return e
}

// Of returns h's environment, or a fresh plain one when h is nil or has
// none: an untraced machine of its own for a component used alone.
func Of(h Host) *Env {
	if h != nil {
		if e := h.Env(); e != nil {
			return e
		}
	}
	return New()
}

// Env returns e itself, so that an *Env is a Host.
func (e *Env) Env() *Env { return e }

// Log returns the trace log (nil, which records nothing, for a nil Env).
func (e *Env) Log() *trace.Log {
	if e == nil {
		return nil
	}
	return e.log
}

// Scheduler returns the simulator the environment runs on, nil for the
// plain environment (and a nil Env). Primitives branch on it: nil means
// wait on real goroutines.
func (e *Env) Scheduler() sched.Scheduler {
	if e == nil {
		return nil
	}
	return e.sch
}

// Simulated reports whether the environment runs on a simulator.
func (e *Env) Simulated() bool { return e.Scheduler() != nil }

// Memory returns the arena simulated allocations come from.
func (e *Env) Memory() *Memory { return &e.mem }

// Lockdep reports whether lockdep's checks are on (the default, also for
// a nil Env).
func (e *Env) Lockdep() bool { return e == nil || e.lockdep }

// Current names the running simulated task, "" in the plain environment
// (and a nil Env) and for the setup code of a simulated run.
func (e *Env) Current() string {
	if s := e.Scheduler(); s != nil {
		return s.Current()
	}
	return ""
}

// Owner identifies a task for lock owners and lockdep: its goroutine's id
// (a few nanoseconds to get, never reused; package internal/gid).
type Owner uint64

// Self returns the calling task's identity (the same for any Env, nil
// included).
func (e *Env) Self() Owner { return Owner(gid.Get()) }

// Yield is a schedule point (cond_resched and every sleeping primitive):
// under a simulator another task may run here; in the plain environment
// (and a nil Env) it does nothing.
func (e *Env) Yield(p sched.Point) {
	if s := e.Scheduler(); s != nil {
		s.Yield(p)
	}
}

// Fault reports whether the named fault point fails on this hit
// (fail_function, failslab): only a simulator injects faults.
func (e *Env) Fault(point string) error {
	if s := e.Scheduler(); s != nil {
		return s.Fault(point)
	}
	return nil
}

// Spawn starts fn as a simulated task named name (kthread_run, a kworker)
// when the environment runs on a simulator that can start one for the
// caller, and reports whether it did; see sched.Spawner. In the plain
// environment it returns false and the caller uses a goroutine.
func (e *Env) Spawn(name string, fn, abandon func()) bool {
	if e == nil || e.spawner == nil {
		return false
	}
	return e.spawner.Spawn(name, fn, abandon)
}

// maxReports bounds the reports the plain environment keeps.
const maxReports = 256

// Report files a bug found by the simulated kernel (fn names the kernel
// facility: "kasan_report", "lockdep"). Under a simulator it fails the run
// and, called from a task, does not return. In the plain environment it
// emits a trace.Warn event with the report's title and keeps the report
// (the first 256; Reports).
func (e *Env) Report(fn string, r *Report) {
	if r.Task == "" {
		r.Task = e.Current()
	}
	if e.bugger != nil {
		e.bugger.Bug(r)
		return
	}
	ev := e.log.Emit(trace.Event{Kind: trace.Warn, Func: fn, Msg: r.Title})
	r.Seq = ev.Seq
	e.keep(r)
}

// keep records r among the plain environment's reports.
func (e *Env) keep(r *Report) {
	e.nreports.Add(1)
	e.mu.Lock()
	if len(e.reports) < maxReports {
		e.reports = append(e.reports, r)
	}
	e.mu.Unlock()
}

// Reports returns the reports the plain environment kept, oldest first,
// and how many were filed in all.
func (e *Env) Reports() (kept []*Report, total int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*Report(nil), e.reports...), int(e.nreports.Load())
}
