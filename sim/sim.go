// Package sim is drvsim's deterministic simulation layer: a scheduler that
// runs simulated tasks one at a time, in an order chosen by a seeded PRNG,
// so that a hot-unplug race or a lock-order deadlock found once can be
// replayed exactly, from a seed or a recorded schedule.
//
// *Sim implements sched.Scheduler and builds the environment (env.Env) a
// simulated machine lives in; a test builds its machine on the Sim
// (drvsim.OnSim), starts tasks with Go and calls Run. Every schedule point
// the components report (Yield, Block) is a place where the Sim may switch
// to another task. Components that start work of their own (the driver
// core's asynchronous probes) start it as tasks through Spawn, the
// sched.Spawner interface. Tasks run on coroutines: control passes
// directly from one to the next.
//
// Around the scheduler the package provides what the kernel's debugging
// options provide for real drivers, and checks its own answers:
//
//   - Explore runs a scenario under many schedules (random, PCT, or an
//     exhaustive depth-first search of interleavings, preemption-bounded),
//     on every core (ExploreConfig.Workers) or in shards across machines
//     (Shard, MergeSummaries), within a time budget if asked; every number
//     of workers and shards gives the serial search's counts and first
//     failure.
//   - Every forced step is checked against the run it was taken from and
//     every failure is replayed before it is reported: a scenario that
//     does not repeat itself stops the search with a nondeterminism
//     report, never a wrong verdict.
//   - A failure is reported with the schedule that has the fewest
//     preemptions reproducing it (ExploreResult.Minimal).
//   - Fault injection at named points (Config.Faults, SweepFaults) models
//     fail_function and failslab.
//   - Memory and Object model KASAN: a use-after-free or double free fails
//     the run with a report naming the tasks and call sites involved.
//   - A deadlock (every task blocked) is reported with its wait-for chain,
//     as the hung_task detector and lockdep would; a task stuck outside the
//     scheduler or spinning without schedule points is reported by a
//     wall-clock watchdog (Config.Watchdog), a livelock by the step bound.
//   - Leak checks at the end of every run model kmemleak; the components
//     above register theirs with the machine's environment (devres on an
//     unbound device, device references, consumers of a revoked provider).
//
// Nothing in the package reads the wall clock but the watchdog, which only
// decides whether a run is stuck: Sleep and Now use a virtual clock that
// advances only when every task is blocked.
//
// Rules for code running in tasks: wait only through the Sim (Block, Sleep,
// the kernel library's primitives, the components'), never on a Go channel
// or sync.Mutex that another simulated task must release, and never hold a
// Go lock across a schedule point: the other tasks are parked, so such a
// wait would block the whole run outside the scheduler's sight. The
// watchdog reports such a run as stuck instead of letting it hang.
// Goroutines that are not tasks may call the Sim (Yield is then a no-op,
// Block panics if it would have to wait), but simulated work belongs in
// tasks started with Go.
package sim

import (
	"fmt"
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
// seed 0 and the default step bound and watchdog.
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
	// fails the run ("replay diverged"). At most MaxScheduleLen entries.
	Replay []string
	// MaxSteps bounds the number of schedule points of a run; reaching it
	// fails the run as a livelock. Default 10000.
	MaxSteps int
	// Watchdog is how long a run may go without reaching a schedule point,
	// in wall-clock time, before it is reported as stuck: a task blocked
	// outside the scheduler (a plain Go channel, a sync.Mutex) or spinning
	// without schedule points. Default 10s; negative turns the watchdog off.
	// The wall clock only decides whether a run is reported stuck, never
	// what its schedule or trace hold.
	Watchdog time.Duration
	// Faults are the fault-injection rules consulted by Fault.
	Faults []FaultRule
	// Log is the trace the run records into; nil makes Run create one.
	// Explore and SweepFaults always use a fresh log per run.
	Log *trace.Log
	// NoMemoryLeakCheck turns off the end-of-run check that every Object
	// allocated from the Sim's Memory was freed (as NoLeakChecks holding
	// env.LeakMemory does).
	NoMemoryLeakCheck bool
	// NoLeakChecks turns off the end-of-run leak checks of these names
	// (env.LeakDevres, env.LeakDeviceRefs, env.LeakRevocable, env.LeakURBs,
	// env.LeakFiles, env.LeakMemory, or a name given to AddLeakCheck): a
	// test opts out of one check and keeps the others.
	NoLeakChecks []string
	// NoLockdep runs the environment without lockdep (env.WithLockdep):
	// no owner checks on locks, no check of a revoke inside its own read
	// section.
	NoLockdep bool
	// Test and Pkg complete the replay hint of a failure report
	// ("DRVSIM_SEED=42 go test -run '^Test$' ./pkg"). Pkg defaults to the
	// package directory of the running test, relative to the module root.
	Test, Pkg string

	prefix   []int      // Exhaustive: alternative numbers to follow (DFS)
	ref      *reference // the run the prefix was taken from, to check determinism
	envErr   error      // EnvConfig: a bad DRVSIM_SEED or DRVSIM_SCHEDULE
	hint     sizes      // expected sizes of the run (buffers)
	noEvents bool       // a passing run's Result needs no Events
	worker   int        // Explore's worker making the run (Sim.Worker)
	pool     *coroPool  // the worker's coroutines (nil: the run's own)
	// then carries on with an Explore worker's search when the worker's
	// goroutine lost the run it was driving (runHere).
	then func(*Result)
}

const (
	defaultMaxSteps = 10000
	defaultPCTDepth = 3
	defaultPCTSteps = 64
	defaultWatchdog = 10 * time.Second
)

type phase int32

// How a run ended (Sim.over): the driver and the watchdog race to end it,
// and exactly one wins.
const (
	endRunning   = 0
	endDriven    = 1 // by its driver
	endAbandoned = 2 // by the watchdog, stuck
)

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

	rng   *rand.Rand // schedule choices (random)
	frng  *rand.Rand // probabilistic faults (faultRandom)
	phase atomic.Int32
	cur   atomic.Pointer[task]
	// setupGID is the goroutine running the scenario function.
	setupGID uint64

	// Owned by whichever coroutine runs (a task, or the driver while no
	// task runs); the coroutine switches order the accesses.
	tasks       []*task
	alive       []*task
	names       []nameCount // how many tasks have each name
	runnable    []*task
	steps       []Step
	preemptions int
	choices     int    // steps that chose a task
	hash        uint64 // of the choices: two runs' traces differ iff it does
	now         time.Duration
	change      []int // PCT change-point steps; change[i] lowers to len-i
	handoff     *task // the task the driver resumes next; nil: the run is over

	aborting atomic.Bool   // the run is over: parked tasks unwind when resumed
	progress atomic.Uint64 // schedule points and task exits, for the watchdog
	// sched is held by a task while it runs the scheduler's code (pick,
	// exit, spawn) and by the watchdog while it decides that the run is
	// stuck, so a task that wakes at that moment cannot race with it.
	sched     sync.Mutex
	stuck     atomic.Pointer[task] // the task the watchdog abandoned
	abandoned atomic.Bool          // the watchdog ended the run
	driverGID atomic.Uint64
	driven    bool          // the driver finished (not ended by a Goexit)
	over      atomic.Int32  // running, then ended (by the driver) or abandoned (by the watchdog)
	done      chan struct{} // Run: closed by the driver when the run is over

	mu       sync.Mutex // guards what stray goroutines may reach
	failure  *Report
	failed   atomic.Bool
	hits     map[string]int
	hitOrder []string

	env         *env.Env
	cleanups    []func()
	pool        *coroPool
	ended       []*coroutine // of the run's ended tasks, for the pool
	unknownTask string       // a replayed schedule named a task the run never had
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
	if cfg.Watchdog == 0 {
		cfg.Watchdog = defaultWatchdog
	}
	s := &Sim{
		cfg: cfg,
		log: cfg.Log,
	}
	s.hash = 14695981039346656037
	s.pool = cfg.pool
	if s.pool == nil {
		s.pool = &coroPool{}
	}
	if cfg.hint.steps > 0 {
		s.steps = make([]Step, 0, cfg.hint.steps)
		s.tasks = make([]*task, 0, cfg.hint.tasks)
		s.alive = make([]*task, 0, cfg.hint.tasks)
		s.runnable = make([]*task, 0, cfg.hint.tasks)
	}
	if s.log == nil {
		s.log = trace.NewLog()
		s.log.Grow(cfg.hint.events)
	}
	s.env = env.New(env.WithLog(s.log), env.WithScheduler(s), env.WithLockdep(!cfg.NoLockdep))
	if cfg.Mode == PCT {
		for i := 1; i < cfg.PCTDepth; i++ {
			s.change = append(s.change, 1+s.random().IntN(cfg.PCTSteps))
		}
	}
	return s
}

// sizes are a run's sizes, the hint for the next run's buffers.
type sizes struct{ steps, tasks, events int }

// nameCount counts the tasks started with one name.
type nameCount struct {
	name string
	n    int
}

// random returns the PRNG of the schedule choices, seeded with the run's
// seed on first use.
func (s *Sim) random() *rand.Rand {
	if s.rng == nil {
		s.rng = rand.New(rand.NewPCG(s.cfg.Seed, 0x5eed5c4ed))
	}
	return s.rng
}

// faultRandom returns the PRNG of the probabilistic fault rules, a stream
// of its own so that faults do not change the schedule.
func (s *Sim) faultRandom() *rand.Rand {
	if s.frng == nil {
		s.frng = rand.New(rand.NewPCG(s.cfg.Seed, 0xfa17))
	}
	return s.frng
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
// sanitizer report, a panic), every remaining task is blocked (deadlock),
// the step bound is reached or the watchdog finds the run stuck outside
// the scheduler. On success the leak checks run. Run may be called once.
//
// When Run returns, every task goroutine has exited, except for a task the
// watchdog found stuck: see Config.Watchdog and the report.
func (s *Sim) Run(scenario func(s *Sim)) *Result {
	if !s.begin(scenario) {
		return s.result()
	}
	s.done = make(chan struct{})
	go s.carryOn()
	s.watch()
	return s.finish()
}

// runHere is Run for an Explore worker: the calling goroutine drives the
// run itself, so that no goroutine is started or woken per run (with an
// idle P, each would wake a thread). The worker's watchdog (coroPool.watch)
// guards it: when the run is stuck, the calling goroutine is stuck with
// it, so the watchdog ends the run and hands its result to
// Config.then on a goroutine of its own, which carries on with the
// worker's search; a task ending with runtime.Goexit hands over the same
// way. ok is false when the calling goroutine lost the run so: it must
// return without touching the search.
func (s *Sim) runHere(scenario func(s *Sim)) (r *Result, ok bool) {
	if !s.begin(scenario) {
		return s.result(), true
	}
	s.pool.watch(s)
	if !s.drive() {
		return nil, false
	}
	s.pool.unwatch(s)
	return s.finish(), true
}

// begin starts Run: it checks the configuration, runs the scenario
// function and picks the first task. It returns false when the run failed
// before any task could start (a bad configuration).
func (s *Sim) begin(scenario func(s *Sim)) bool {
	if !s.phase.CompareAndSwap(int32(phaseNew), int32(phaseSetup)) {
		panic("sim: Run called twice on the same Sim")
	}
	if s.cfg.envErr == nil && len(s.cfg.Replay) > MaxScheduleLen {
		s.cfg.envErr = fmt.Errorf("Config.Replay has %d entries, more than MaxScheduleLen (%d)", len(s.cfg.Replay), MaxScheduleLen)
	}
	if s.cfg.envErr != nil {
		s.phase.Store(int32(phaseDone))
		s.fail(badInputReport(s.cfg.envErr))
		return false
	}
	s.setupGID = gid.Get()
	if scenario != nil {
		s.setup(scenario)
	}
	s.phase.Store(int32(phaseRunning))
	if !s.failed.Load() {
		s.handoff = s.pick(nil, sched.Point{Kind: "start"})
	}
	return true
}

// finish ends Run once the run is over (driven to its end, or abandoned)
// and returns its result.
func (s *Sim) finish() *Result {
	s.cur.Store(nil)
	s.phase.Store(int32(phaseDone))
	return s.result()
}

// drive is the run's driver: it resumes the task each schedule point hands
// over to, until the run is over, then unwinds what is left and runs the
// leak checks. It returns true when it ended the run, false when the
// watchdog did (the run was stuck). A task that ends with runtime.Goexit
// propagates it to the driver (iter.Pull does): a fresh driver goroutine
// then carries on (carryOn).
func (s *Sim) drive() bool {
	s.driverGID.Store(gid.Get())
	defer func() {
		if !s.driven && !s.abandoned.Load() {
			go s.carryOn()
		}
	}()
	for !s.abandoned.Load() && s.handoff != nil {
		t := s.handoff
		s.handoff = nil
		s.run(t)
	}
	if s.abandoned.Load() {
		s.driven = true
		return false // the watchdog has ended the run
	}
	s.checkEnd()
	s.unwind(nil)
	s.cur.Store(nil)
	s.recycle()
	if s.cfg.pool == nil {
		s.pool.close()
	}
	if !s.failed.Load() {
		s.checkLeaks()
	}
	s.runCleanups()
	s.driven = true
	if !s.over.CompareAndSwap(endRunning, endDriven) {
		return false // the watchdog found the end-of-run code stuck
	}
	if s.done != nil {
		close(s.done)
	}
	return true
}

// carryOn drives the run on a goroutine of its own: Run's driver, or the
// driver that takes over from one ended by runtime.Goexit. When the run
// belongs to an Explore worker (runHere), the worker's search goes on
// here with the run's result.
func (s *Sim) carryOn() {
	if s.drive() && s.cfg.then != nil {
		s.cfg.then(s.finish())
	}
}

// Worker returns the index of the Explore worker making this run, from 0:
// two runs with the same index never overlap in time (a Run outside
// Explore is worker 0). PerWorker uses it.
func (s *Sim) Worker() int { return s.cfg.worker }

// Cleanup registers fn to run when the run ends, whatever its outcome:
// after the tasks have unwound and the leak checks have run, with no task
// running, in the reverse order of registration (as testing.T.Cleanup).
// Scenario code closes what it built for the run there (a System's
// Close). A panic in fn fails the run if it has not failed yet.
func (s *Sim) Cleanup(fn func()) {
	s.mu.Lock()
	s.cleanups = append(s.cleanups, fn)
	s.mu.Unlock()
}

// runCleanups calls the Cleanup functions, last registered first.
func (s *Sim) runCleanups() {
	s.mu.Lock()
	fns := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if r := recover(); r != nil {
					s.fail(panicReport("<cleanup>", r))
				}
			}()
			fns[i]()
		}()
	}
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

// unwind resumes every parked task (but skip) with the abort flag set so
// that it unwinds (its deferred calls run) and its goroutine exits. Tasks
// that never ran get their abandon callback (Spawn) instead.
func (s *Sim) unwind(skip *task) {
	if len(s.alive) == 0 {
		return
	}
	s.aborting.Store(true)
	var abandoned []*task
	for _, t := range append([]*task(nil), s.alive...) {
		if t == skip {
			continue
		}
		if !t.started {
			t.done = true
			if t.abandon != nil {
				abandoned = append(abandoned, t)
			}
			continue
		}
		s.run(t)
		s.progress.Add(1)
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
// code, a goroutine that is no task, no run). A task resumed to unwind a
// failed run, or found stuck by the watchdog, panics with the abort
// sentinel.
func (s *Sim) self() *task {
	t := s.cur.Load()
	g := gid.Get()
	if t == nil || t.gid.Load() != g {
		if st := s.stuck.Load(); st != nil && st.gid.Load() == g {
			panic(errAbort)
		}
		return nil
	}
	if s.aborting.Load() {
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

// stepsSnapshot returns the steps when the caller may read them (it is the
// running task or the setup code), nil otherwise.
func (s *Sim) stepsSnapshot() []Step {
	if s.self() != nil || s.inSetup() {
		return s.steps
	}
	return nil
}
