// Package sim is drvsim's deterministic simulation layer: a scheduler that
// runs simulated tasks one at a time, in an order chosen by a seeded PRNG,
// so that a hot-unplug race or a lock-order deadlock found once can be
// replayed exactly, from a seed or a recorded schedule.
//
// *Sim implements sched.Scheduler. Components of the framework (devres,
// revocable, the driver core) hold a sched.Scheduler; a test creates a Sim,
// builds the components with the Sim attached, starts tasks with Go and
// calls Run. Every schedule point the components report (Yield, Block) is a
// place where the Sim may switch to another task. Components that start work
// of their own (the driver core's asynchronous probes) start it as tasks
// through Spawn, the sched.Spawner interface.
//
// Around the scheduler the package provides what the kernel's debugging
// options provide for real drivers:
//
//   - Explore runs a scenario under many schedules (random, PCT, or an
//     exhaustive depth-first search of interleavings), like a stress test
//     that can be replayed.
//   - Fault injection at named points (Config.Faults, SweepFaults) models
//     fail_function and failslab.
//   - Memory and Object model KASAN: a use-after-free or double free fails
//     the run with a report naming the tasks and call sites involved.
//   - A deadlock (every task blocked) is reported with its wait-for chain,
//     as the hung_task detector and lockdep would.
//   - Leak checks at the end of a run model kmemleak and let higher layers
//     add their own (devres never released, references never put).
//
// Nothing in the package reads the wall clock: Sleep and Now use a virtual
// clock that advances only when every task is blocked.
//
// Rules for code running in tasks: wait only through the Sim (Block, Sleep,
// Mutex, Completion, the components' primitives), never on a Go channel or
// sync.Mutex that another simulated task must release, and never hold a Go
// lock across a schedule point: the other tasks are parked, so such a wait
// would block the whole run outside the scheduler's sight. Goroutines that
// are not tasks may call the Sim (Yield is then a no-op, Block panics if it
// would have to wait), but simulated work belongs in tasks started with Go.
package sim

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/gid"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Mode selects how the scheduler picks the next task at a schedule point.
type Mode int

const (
	// Random picks uniformly among the runnable tasks, from a PRNG seeded
	// with Config.Seed.
	Random Mode = iota
	// PCT is probabilistic concurrency testing (Burckhardt et al.): tasks get
	// random priorities, the highest-priority runnable task runs, and at
	// Config.PCTDepth-1 random steps the running task's priority drops below
	// every other. It finds bugs of depth d with a known probability.
	PCT
	// Exhaustive is the mode of Explore's depth-first search over every
	// interleaving. For Run it means: follow Config.Replay, then keep running
	// the current task whenever it can run (no preemption).
	Exhaustive
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case Random:
		return "random"
	case PCT:
		return "pct"
	case Exhaustive:
		return "exhaustive"
	}
	return "mode?"
}

// Config parameterises one run. The zero value is a random schedule with
// seed 0 and the default step bound.
type Config struct {
	// Seed seeds the scheduler's PRNG (and, on a separate stream, the
	// probabilistic fault rules). The same seed gives the same run.
	Seed uint64
	// Mode is Random (default) or PCT; see Mode.
	Mode Mode
	// PCTDepth is PCT's bug depth d: d-1 priority change points per run.
	// Default 3.
	PCTDepth int
	// PCTSteps is PCT's estimate k of the number of steps of a run; change
	// points are drawn from [1, k]. Default 64; Explore measures it.
	PCTSteps int
	// Replay, when non-nil, forces the schedule: at the i-th schedule point
	// the task named Replay[i] runs (a Result's Schedule). Past its end the
	// current task keeps running while it can. A named task that cannot run
	// fails the run ("replay diverged").
	Replay []string
	// MaxSteps bounds the number of schedule points of a run; reaching it
	// fails the run as a livelock. Default 10000.
	MaxSteps int
	// Faults are the fault-injection rules consulted by Fault.
	Faults []FaultRule
	// Log is the trace the run records into; nil makes Run create one.
	// Explore and SweepFaults always use a fresh log per run.
	Log *trace.Log
	// NoMemoryLeakCheck turns off the end-of-run check that every Object
	// allocated from the Sim's Memory was freed.
	NoMemoryLeakCheck bool
	// NoLockdep runs the environment without lockdep (env.WithLockdep):
	// no owner checks on locks, no check of a revoke inside its own read
	// section.
	NoLockdep bool
	// Test and Pkg complete the replay hint of a failure report
	// ("DRVSIM_SEED=42 go test -run '^Test$' ./pkg"). Pkg defaults to the
	// package directory of the running test, relative to the module root.
	Test, Pkg string

	prefix  []int // Exhaustive: alternative numbers to follow (DFS)
	lenient bool  // Replay: fall back to the default choice on divergence
}

const (
	defaultMaxSteps = 10000
	defaultPCTDepth = 3
	defaultPCTSteps = 64
)

type phase int32

const (
	phaseNew     phase = iota // created, Run not called
	phaseSetup                // the scenario function runs
	phaseRunning              // tasks run
	phaseDone                 // Run returned
)

// Sim is one controlled run: its tasks, its virtual clock, its memory
// arena, its fault counters and its trace. It implements sched.Scheduler.
// Create it with New (or let Run do it); a Sim runs once.
//
// Sim's methods may be called from setup code before the tasks start: then
// Yield does nothing, Block returns if its condition already holds and
// panics otherwise (nothing could ever make it true), and Current is "".
type Sim struct {
	cfg Config
	log *trace.Log

	rng   *rand.Rand // schedule choices
	frng  *rand.Rand // probabilistic faults
	phase atomic.Int32
	cur   atomic.Pointer[task]
	// setupGID is the goroutine running the scenario function.
	setupGID uint64

	// Owned by whichever goroutine holds the token (the running task, or
	// the controller while no task runs); handoffs order the accesses.
	tasks       []*task
	alive       []*task
	names       map[string]int
	runnable    []*task
	steps       []Step
	preemptions int
	aborting    bool
	now         time.Duration
	change      []int // PCT change-point steps; change[i] lowers to len-i
	done        chan struct{}

	mu       sync.Mutex // guards what stray goroutines may reach
	failure  *Report
	failed   atomic.Bool
	hits     map[string]int
	hitOrder []string

	env   *env.Env
	leaks []leakCheck
}

var _ sched.Scheduler = (*Sim)(nil)

// New returns a Sim configured by cfg, ready for components to be attached
// and tasks to be started; call Run to run it.
func New(cfg Config) *Sim {
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = defaultMaxSteps
	}
	if cfg.PCTDepth <= 0 {
		cfg.PCTDepth = defaultPCTDepth
	}
	if cfg.PCTSteps <= 0 {
		cfg.PCTSteps = defaultPCTSteps
	}
	s := &Sim{
		cfg:   cfg,
		log:   cfg.Log,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x5eed5c4ed)),
		frng:  rand.New(rand.NewPCG(cfg.Seed, 0xfa17)),
		names: map[string]int{},
		hits:  map[string]int{},
		done:  make(chan struct{}),
	}
	if s.log == nil {
		s.log = trace.NewLog()
	}
	s.env = env.New(env.WithLog(s.log), env.WithScheduler(s), env.WithLockdep(!cfg.NoLockdep))
	if cfg.Mode == PCT {
		for i := 1; i < cfg.PCTDepth; i++ {
			s.change = append(s.change, 1+s.rng.IntN(cfg.PCTSteps))
		}
	}
	return s
}

// Run creates a Sim from cfg, calls scenario to set it up (create
// components, start tasks with Go) and runs the tasks to the end. See
// (*Sim).Run.
func Run(cfg Config, scenario func(s *Sim)) *Result {
	return New(cfg).Run(scenario)
}

// Log returns the trace the Sim records into.
func (s *Sim) Log() *trace.Log { return s.log }

// Env returns the environment of the run: the Sim's trace, scheduler,
// memory arena and clock. A machine built on it (drvsim.OnSim) and every
// kernel-library object created with the Sim as its Host live in it.
func (s *Sim) Env() *env.Env { return s.env }

// Memory returns the run's arena (KASAN): its use-after-free and double
// free reports fail the run, and memory never freed fails the leak check
// at the end of a successful run.
func (s *Sim) Memory() *env.Memory { return s.env.Memory() }

// Alloc allocates a simulated object from the run's arena; see
// env.Memory.Alloc.
func (s *Sim) Alloc(name string) *env.Object { return s.env.Memory().Alloc(name) }

// Bug implements env.Bugger: r fails the run, and a calling task unwinds.
// Outside a run it panics with r.
func (s *Sim) Bug(r *env.Report) { s.bug(r) }

// Seed returns the seed of the run.
func (s *Sim) Seed() uint64 { return s.cfg.Seed }

// Run calls scenario (which may be nil) on the calling goroutine, then runs
// every task started with Go until all have finished, one fails (a
// sanitizer report, a panic), every remaining task is blocked (deadlock) or
// the step bound is reached. On success the leak checks run. Every task
// goroutine has exited when Run returns. Run may be called once.
func (s *Sim) Run(scenario func(s *Sim)) *Result {
	if !s.phase.CompareAndSwap(int32(phaseNew), int32(phaseSetup)) {
		panic("sim: Run called twice on the same Sim")
	}
	s.setupGID = gid.Get()
	if scenario != nil {
		s.setup(scenario)
	}
	s.phase.Store(int32(phaseRunning))
	if !s.failed.Load() {
		if next := s.pick(nil, sched.Point{Kind: "start"}); next != nil {
			s.resume(next)
			<-s.done
		}
	}
	s.unwind()
	s.cur.Store(nil)
	s.phase.Store(int32(phaseDone))
	if !s.failed.Load() {
		s.checkLeaks()
	}
	return s.result()
}

// setup runs the scenario function, turning a panic into a failure.
func (s *Sim) setup(scenario func(s *Sim)) {
	defer func() {
		if r := recover(); r != nil && r != errAbort {
			s.fail(panicReport("<setup>", r))
		}
	}()
	scenario(s)
}

// unwind resumes every parked task with the abort flag set so that it
// unwinds (its deferred calls run) and its goroutine exits. Tasks that never
// ran get their abandon callback (Spawn) instead.
func (s *Sim) unwind() {
	if len(s.alive) == 0 {
		return
	}
	s.aborting = true
	var abandoned []*task
	for _, t := range append([]*task(nil), s.alive...) {
		if !t.spawned {
			t.done = true
			if t.abandon != nil {
				abandoned = append(abandoned, t)
			}
			continue
		}
		s.cur.Store(t)
		t.wake <- struct{}{}
		<-s.done
	}
	s.alive = nil
	s.runAbandoned(abandoned)
}

// Current names the running task, "" when none runs (before Run, during
// setup, after Run). It may be called from any goroutine; the trace log
// calls it to stamp events with their task.
func (s *Sim) Current() string {
	if t := s.cur.Load(); t != nil {
		return t.name
	}
	return ""
}

// self returns the running task if the caller is it, nil otherwise (setup
// code, a goroutine that is no task, no run). A task resumed to unwind
// panics with the abort sentinel.
func (s *Sim) self() *task {
	t := s.cur.Load()
	if t == nil || t.gid.Load() != gid.Get() {
		return nil
	}
	if s.aborting {
		panic(errAbort)
	}
	return t
}

// inSetup reports whether the caller is the goroutine running the scenario
// function, before the tasks start.
func (s *Sim) inSetup() bool {
	return phase(s.phase.Load()) == phaseSetup && gid.Get() == s.setupGID
}

// abortSentinel is the panic value that unwinds a task of a failed run.
type abortSentinel struct{}

var errAbort any = abortSentinel{}

// fail records r as the run's failure unless one is recorded already, and
// reports whether r was the first.
func (s *Sim) fail(r *Report) bool {
	s.mu.Lock()
	first := s.failure == nil
	if first {
		s.failure = r
		s.failed.Store(true)
	}
	s.mu.Unlock()
	if first {
		s.log.Emit(trace.Event{Kind: trace.Warn, Func: "sim", Msg: r.Title})
	}
	return first
}

// bug fails the run with r and unwinds the caller when it is the running
// task or the setup code. Outside a run it panics with the report.
func (s *Sim) bug(r *Report) {
	switch phase(s.phase.Load()) {
	case phaseNew, phaseDone:
		panic(r)
	}
	r.Step = len(s.stepsSnapshot())
	r.Seq = s.log.Seq() + 1
	s.fail(r)
	if s.self() != nil || s.inSetup() {
		panic(errAbort)
	}
}

// stepsSnapshot returns the steps when the caller may read them (it holds
// the token), nil otherwise.
func (s *Sim) stepsSnapshot() []Step {
	if s.self() != nil || s.inSetup() {
		return s.steps
	}
	return nil
}
