package sim

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ExploreConfig parameterises Explore.
type ExploreConfig struct {
	// Config is the configuration of every run. Its Seed is the first seed
	// of a random or PCT exploration; its Mode is ignored (Mode below
	// decides); its Log is ignored (every run gets a fresh log). When its
	// Replay is set, Explore runs that one schedule only, so a test built
	// on EnvConfig replays DRVSIM_SCHEDULE.
	Config
	// Mode is Random (seeds Seed, Seed+1, ...), PCT (likewise, with PCT
	// scheduling) or Exhaustive (depth-first search over interleavings).
	Mode Mode
	// Schedules bounds the number of runs. Default 1000.
	Schedules int
	// MaxPreemptions bounds the preemptions per schedule in Exhaustive mode
	// (preemption bounding, as in CHESS); 0 means unbounded.
	MaxPreemptions int
	// Time, when positive, bounds the exploration's wall-clock time: when
	// it runs out the search stops and says so, with its coverage
	// (ExploreResult.Coverage). The counts of a search stopped by time
	// depend on the machine's speed.
	Time time.Duration
	// Workers is the number of schedules run in parallel: 0 or 1 runs them
	// one at a time, AllCPUs (or any negative number) one per GOMAXPROCS; at
	// most MaxWorkers (more is ErrBadWorkers). Every number of workers gives
	// the same counts and the same first failure as the serial search
	// (unless Time stops it). With more than one worker, runs of the
	// scenario overlap in time: it must not share state between runs without
	// locking, or it gets one instance per worker from PerWorker.
	Workers int
	// Shard, when set (N > 1), runs only this shard of the exploration, so
	// that N processes or machines can share it; MergeSummaries combines
	// their results. See Shard.
	Shard Shard
	// NoMinimize turns off the search for the failing schedule with the
	// fewest preemptions (ExploreResult.Minimal).
	NoMinimize bool
	// MinimizeBudget bounds the runs spent on that search. Default 20000.
	MinimizeBudget int
	// Progress, if set, is called after every run of the search, never
	// concurrently.
	Progress func(Progress)
}

// AllCPUs as ExploreConfig.Workers runs one worker per GOMAXPROCS (at
// most MaxWorkers).
const AllCPUs = -1

// MaxWorkers bounds ExploreConfig.Workers: each worker has goroutines
// and coroutines of its own, and more workers than any machine has cores
// would only cost memory.
const MaxWorkers = 1024

// ErrBadWorkers is ExploreResult.Err when ExploreConfig.Workers is above
// MaxWorkers; nothing runs.
var ErrBadWorkers = errors.New("bad number of workers")

// GCPercent is the collector setting (GOGC) the drvsim command explores
// with when the environment sets no GOGC. An exploration allocates 10 to
// 25 KB per schedule and keeps little of it, so with Go's default of 100
// the heap stays at the collector's 4 MB minimum and a collection starts
// every hundred or so schedules, hundreds of times a second. One worker
// hardly notices (the collector works on the idle P), but with a worker
// on every P each collection stops them all and takes their time: two
// workers on two cores then run about 1.3x as fast as one instead of
// about 1.75x (docs/performance.md). Explore itself leaves the setting
// alone, a process-wide one; a program exploring on every core may set it
// with debug.SetGCPercent, a test run with GOGC=400 in its environment.
const GCPercent = 400

// Progress reports an exploration's advance to a progress callback.
type Progress struct {
	// Schedules run so far, and the bound.
	Schedules, Limit int
	// Failed is true once a failing schedule was found.
	Failed bool
}

// ErrUnknownTask is the error of an exploration asked to replay a schedule
// that names a task the scenario never had: a usage error, not a finding.
var ErrUnknownTask = errors.New("the schedule names a task the scenario does not have")

// ExploreResult is the outcome of Explore.
type ExploreResult struct {
	// Mode explored.
	Mode Mode
	// Replay is true when the exploration replayed one forced schedule
	// (Config.Replay).
	Replay bool
	// Schedules is the number of runs the search made, up to and including
	// the first failing one: runs spent checking determinism and
	// minimizing are not counted (Coverage.ExtraRuns).
	Schedules int
	// Exhausted is true when an exhaustive search covered every
	// interleaving (within MaxPreemptions), or a replayed schedule passed:
	// its one schedule was all there was to run.
	Exhausted bool
	// Failure is the first failing run, nil if none failed. Its report's
	// kind says whether the scenario has a bug or the exploration could not
	// be trusted (BugNondeterminism, BugReplay, BugBadInput: see Trusted).
	Failure *Result
	// Minimal is the run with the fewest preemptions that fails with the
	// same report title as Failure (Failure itself when none has fewer);
	// nil with NoMinimize, for a replay, or when Failure is not a bug.
	Minimal *Result
	// MinimalProven is true when the minimization search covered every
	// schedule with fewer preemptions than Minimal: none of them fails that
	// way. False when its budget ran out first; MinimalBound then says up
	// to which bound it searched completely (-1: none).
	MinimalProven bool
	MinimalBound  int
	// Err is set when the exploration could not do what it was asked:
	// ErrUnknownTask, or a bad DRVSIM_SEED or DRVSIM_SCHEDULE value.
	Err error
	// Stopped says why a search without failure ended before exhausting
	// its space: "schedules" (the Schedules bound), "time" (the Time
	// budget); "" otherwise.
	Stopped string
	// Coverage summarises what the search covered.
	Coverage Coverage
	// Shard is the shard explored (zero: the whole exploration). For
	// MergeSummaries: an exhaustive search's pieces (Units), or the index
	// of a random or PCT search's first failing schedule (FailedAt, -1 for
	// none).
	Shard    Shard
	Units    []UnitResult
	FailedAt int
}

// Failed reports whether a failing schedule was found, or the exploration
// could not be carried out (Err).
func (r *ExploreResult) Failed() bool { return r.Failure != nil || r.Err != nil }

// Trusted reports whether the result means what it says: false when the
// scenario proved nondeterministic, a replay diverged, or the input was
// bad; then neither "no failure" nor a failure's schedule may be relied on.
func (r *ExploreResult) Trusted() bool {
	return r.Err == nil && (r.Failure == nil || !harness(r.Failure.Failure.Kind))
}

// Reported is the failing run a report shows: Minimal when there is one,
// otherwise Failure.
func (r *ExploreResult) Reported() *Result {
	if r.Minimal != nil {
		return r.Minimal
	}
	return r.Failure
}

// String summarises the exploration; on failure it includes the report of
// the reported run (Reported) and its replay hint.
func (r *ExploreResult) String() string {
	var b strings.Builder
	if r.Err != nil && r.Failure == nil {
		// A bad configuration (shard, workers): nothing ran, and no
		// verdict may be read into the zero counts.
		fmt.Fprintf(&b, "explore (%s): nothing run: %v\n", r.Mode, r.Err)
		return b.String()
	}
	if r.Replay {
		b.WriteString("explore (replay): 1 schedule")
		switch {
		case r.Failure == nil:
			b.WriteString(", passed\n")
			return b.String()
		case r.Failure.Failure.Kind == BugReplay:
			b.WriteString(", " + r.Failure.Failure.Title + "\n")
			b.WriteString(r.Failure.Failure.Details)
			return b.String()
		}
		b.WriteString(", failed\n")
		b.WriteString(r.Failure.String())
		return b.String()
	}
	fmt.Fprintf(&b, "explore (%s): %d schedules", r.Mode, r.Schedules)
	if r.Shard.N > 1 {
		fmt.Fprintf(&b, " in shard %s", r.Shard)
	}
	if r.Exhausted {
		b.WriteString(", space exhausted")
	}
	if r.Failure == nil {
		if r.Stopped == "time" {
			b.WriteString(", time budget spent")
		}
		b.WriteString(", no failure\n")
		if r.Stopped == "time" {
			b.WriteString(r.Coverage.String())
		}
		return b.String()
	}
	if k := r.Failure.Failure.Kind; harness(k) {
		fmt.Fprintf(&b, ", stopped: %s\n", r.Failure.Failure.Title)
		b.WriteString(r.Failure.String())
		return b.String()
	}
	fmt.Fprintf(&b, ", failure found in schedule %d\n", r.Schedules)
	if m := r.Minimal; m != nil {
		b.WriteString(r.minimalLine())
	}
	b.WriteString(r.Reported().String())
	if f := r.Failure; r.Reported() != f && !f.Replayed {
		// A test that reads only DRVSIM_SEED replays the run as found.
		b.WriteString("found first: " + f.ReplayHint() + "\n")
	}
	return b.String()
}

// minimalLine says how the reported schedule relates to the first found.
func (r *ExploreResult) minimalLine() string {
	m, f := r.Minimal, r.Failure
	pre := func(n int) string {
		if n == 1 {
			return "1 preemption"
		}
		return fmt.Sprintf("%d preemptions", n)
	}
	var b strings.Builder
	if m == f {
		fmt.Fprintf(&b, "minimal: %s", pre(m.Preemptions))
	} else {
		fmt.Fprintf(&b, "minimal: the same failure with %s (the schedule found had %d)", pre(m.Preemptions), f.Preemptions)
	}
	switch {
	case m.Preemptions == 0:
		b.WriteString(", the fewest possible\n")
	case r.MinimalProven:
		fmt.Fprintf(&b, "; no schedule with fewer fails this way\n")
	case r.MinimalBound < 0:
		b.WriteString("; the search for fewer ran out of budget\n")
	default:
		fmt.Fprintf(&b, "; no schedule with up to %s fails this way, the search ran out of budget\n", pre(r.MinimalBound))
	}
	return b.String()
}

// Explore runs scenario under many schedules and stops at the first
// failure, the way a kernel stress test hunts a race, except that every
// schedule can be replayed: a random or PCT failure from its seed, an
// exhaustive one from its schedule (both are in the Result's replay hint).
//
// scenario must build everything afresh on the Sim it is given (it runs
// once per schedule, on several goroutines at once unless Workers is 1)
// and must be deterministic apart from the schedule: every forced step is
// checked, and a scenario that does not repeat itself stops the search with
// a BugNondeterminism failure rather than a verdict.
//
// On a failure, Explore replays the failing schedule to confirm it, then
// searches every schedule with 0, 1, 2, ... preemptions for the same
// failure and reports the first it finds (ExploreResult.Minimal).
func Explore(cfg ExploreConfig, scenario func(s *Sim)) *ExploreResult {
	if cfg.Schedules <= 0 {
		cfg.Schedules = 1000
	}
	if cfg.MinimizeBudget <= 0 {
		cfg.MinimizeBudget = 20000
	}
	switch {
	case cfg.Workers < 0:
		cfg.Workers = min(runtime.GOMAXPROCS(0), MaxWorkers)
	case cfg.Workers == 0:
		cfg.Workers = 1
	case cfg.Workers > MaxWorkers:
		return &ExploreResult{Mode: cfg.Mode, Shard: cfg.Shard, MinimalBound: -1, FailedAt: -1,
			Err: fmt.Errorf("%w: %d, at most MaxWorkers (%d)", ErrBadWorkers, cfg.Workers, MaxWorkers)}
	}
	base := cfg.Config
	base.Log, base.Mode = nil, cfg.Mode
	x := &explorer{cfg: cfg, scenario: scenario, base: base, seen: map[uint64]struct{}{}}
	x.pools = make([]coroPool, cfg.Workers)
	defer func() {
		for i := range x.pools {
			x.pools[i].close()
		}
	}()
	if cfg.Time > 0 {
		x.deadline = time.Now().Add(cfg.Time)
	}
	res := &ExploreResult{Mode: cfg.Mode, Shard: cfg.Shard, MinimalBound: -1, FailedAt: -1}
	switch {
	case base.envErr != nil:
		res.Err = base.envErr
		res.Failure = Run(base, nil)
		return res
	case cfg.Shard.N > 1 && cfg.Shard.check() != nil:
		res.Err = cfg.Shard.check()
		return res
	case base.Replay != nil:
		return x.replay(res)
	}
	switch cfg.Mode {
	case Exhaustive:
		x.exhaustive(res)
	default:
		x.seeded(res)
	}
	x.finish(res)
	return res
}

// explorer holds one exploration's state shared by its workers.
type explorer struct {
	cfg      ExploreConfig
	scenario func(*Sim)
	base     Config
	deadline time.Time

	mu       sync.Mutex // guards what follows; Progress calls run under it
	runs     int        // runs of the search so far
	extra    int        // determinism checks and minimization runs
	failed   bool
	seen     map[uint64]struct{}
	deepest  int
	maxPre   int
	pruned   bool // the preemption bound cut an alternative
	timedOut bool
	// distinctCapped is true once a run's schedule was new but not kept.
	distinctCapped bool
	hint           sizes // of the last run, to size the next one's buffers

	pools []coroPool // each worker's coroutines
}

// run makes one run of the search on the calling goroutine and accounts
// for it.
func (x *explorer) run(c Config) *Result {
	r, _ := x.makeRun(c, false, nil)
	return r
}

// makeRun makes one run: of the search (extra false) or one that checks or
// minimizes (extra true), and accounts for it. With then nil, it runs
// with Run; otherwise the calling goroutine, an Explore worker's, drives
// the run itself (runHere), and ok false says that it lost the run: then
// carries on with the accounted result on another goroutine.
func (x *explorer) makeRun(c Config, extra bool, then func(*Result)) (r *Result, ok bool) {
	if !extra {
		x.mu.Lock()
		c.hint = x.hint
		x.mu.Unlock()
	}
	c.pool, c.noEvents = &x.pools[c.worker], true
	if then == nil {
		return x.account(Run(c, x.scenario), extra), true
	}
	c.then = func(r *Result) { then(x.account(r, extra)) }
	if r, ok = New(c).runHere(x.scenario); !ok {
		return nil, false
	}
	return x.account(r, extra), true
}

// account counts run r: a run of the search, or an extra one.
func (x *explorer) account(r *Result, extra bool) *Result {
	x.mu.Lock()
	defer x.mu.Unlock()
	if extra {
		x.extra++
		return r
	}
	x.runs++
	x.hint = sizes{steps: r.sizes.steps + 4, tasks: r.sizes.tasks + 1, events: r.sizes.events + 8}
	x.see(r.hash)
	x.deepest = max(x.deepest, len(r.Steps))
	x.maxPre = max(x.maxPre, r.Preemptions)
	if r.Failed() {
		x.failed = true
	}
	if x.cfg.Progress != nil {
		x.cfg.Progress(Progress{Schedules: x.runs, Limit: x.cfg.Schedules, Failed: x.failed})
	}
	return r
}

// maxDistinct bounds the schedule hashes kept to count distinct traces
// (about 40 MB); past it the count is a lower bound.
const maxDistinct = 1 << 20

// see counts a run's schedule hash among the distinct ones. Called with
// x.mu held.
func (x *explorer) see(h uint64) {
	if len(x.seen) < maxDistinct {
		x.seen[h] = struct{}{}
	} else if _, ok := x.seen[h]; !ok {
		x.distinctCapped = true
	}
}

// extraRun makes a run that checks or minimizes, not counted as a schedule
// of the search.
func (x *explorer) extraRun(c Config) *Result {
	r, _ := x.makeRun(c, true, nil)
	return r
}

// outOfTime reports whether the Time budget is spent.
func (x *explorer) outOfTime() bool {
	if x.deadline.IsZero() {
		return false
	}
	if time.Now().After(x.deadline) {
		x.mu.Lock()
		x.timedOut = true
		x.mu.Unlock()
		return true
	}
	return false
}

// replay runs the one forced schedule of base.Replay.
func (x *explorer) replay(res *ExploreResult) *ExploreResult {
	res.Replay = true
	r := Run(x.base, x.scenario)
	res.Schedules = 1
	x.runs = 1
	if r.Failed() {
		res.Failure = r
		if r.unknownTask != "" {
			res.Err = fmt.Errorf("%w: %q (its tasks: %s)", ErrUnknownTask, r.unknownTask, strings.Join(r.taskNames, ", "))
		}
	} else {
		res.Exhausted = true
	}
	x.coverage(res)
	return res
}

// finish confirms and minimizes a failure and fills in the coverage.
func (x *explorer) finish(res *ExploreResult) {
	if res.Failure != nil && !harness(res.Failure.Failure.Kind) && !res.Failure.abandoned {
		// (A stuck run is neither confirmed nor minimized: every replay
		// would wait for the watchdog again, and leave a goroutine behind.)
		if bad := x.confirm(res.Failure); bad != nil {
			res.Failure, res.Exhausted = bad, false
		} else if !x.cfg.NoMinimize {
			x.minimize(res)
		}
	}
	if res.Failure == nil && !res.Exhausted && res.Stopped == "" {
		res.Stopped = "schedules"
		if x.timedOut {
			res.Stopped = "time"
		}
	}
	x.coverage(res)
}

// coverage fills in res.Coverage.
func (x *explorer) coverage(res *ExploreResult) {
	x.mu.Lock()
	defer x.mu.Unlock()
	res.Coverage = Coverage{
		Schedules:      res.Schedules,
		Runs:           x.runs,
		ExtraRuns:      x.extra,
		DistinctTraces: len(x.seen),
		AtLeast:        x.distinctCapped,
		Deepest:        x.deepest,
		MostPreempted:  x.maxPre,
		Bound:          x.cfg.MaxPreemptions,
		BoundReached:   x.pruned,
		Exhausted:      res.Exhausted,
		Stopped:        res.Stopped,
		Time:           x.cfg.Time,
	}
}

// Coverage summarises what an exploration covered.
type Coverage struct {
	// Schedules is ExploreResult.Schedules; Runs the runs the search made
	// in all (more than Schedules when parallel workers ran past the first
	// failure); ExtraRuns those spent checking determinism and minimizing.
	Schedules int `json:"schedules"`
	Runs      int `json:"runs"`
	ExtraRuns int `json:"extra_runs"`
	// DistinctTraces counts the distinct traces among the runs: every
	// switch between tasks is traced, so two runs' traces differ exactly
	// when their schedules do (counted by a 64-bit hash of the schedule).
	DistinctTraces int `json:"distinct_traces"`
	// AtLeast is true when there were more distinct traces than the
	// 1,048,576 the count keeps.
	AtLeast bool `json:"at_least,omitempty"`
	// Deepest is the most steps of a run; MostPreempted the most
	// preemptions.
	Deepest       int `json:"deepest"`
	MostPreempted int `json:"most_preempted"`
	// Bound is the preemption bound (0: none); BoundReached is true when it
	// cut alternatives off an exhaustive search, i.e. more interleavings
	// exist than were searched.
	Bound        int  `json:"bound"`
	BoundReached bool `json:"bound_reached"`
	// Exhausted and Stopped are ExploreResult's.
	Exhausted bool   `json:"exhausted"`
	Stopped   string `json:"stopped,omitempty"`
	// Time is the budget (0: none).
	Time time.Duration `json:"time,omitempty"`
}

// String renders the coverage as one line.
func (c Coverage) String() string {
	var b strings.Builder
	atLeast := ""
	if c.AtLeast {
		atLeast = "at least "
	}
	fmt.Fprintf(&b, "coverage: %d schedules, %s%d distinct traces, deepest %d steps, at most %d preemptions",
		c.Schedules, atLeast, c.DistinctTraces, c.Deepest, c.MostPreempted)
	switch {
	case c.Bound > 0 && c.BoundReached:
		fmt.Fprintf(&b, " (bound %d, reached: it cut the search)", c.Bound)
	case c.Bound > 0:
		fmt.Fprintf(&b, " (bound %d, never reached)", c.Bound)
	}
	switch {
	case c.Exhausted:
		b.WriteString("; space exhausted")
	case c.Stopped == "time":
		fmt.Fprintf(&b, "; the time budget (%v) ran out first", c.Time)
	case c.Stopped == "schedules":
		b.WriteString("; the schedules bound ran out first")
	}
	b.WriteString("\n")
	return b.String()
}
