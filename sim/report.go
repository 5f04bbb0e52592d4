package sim

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// BugKind classifies a failure report; it is env.BugKind.
type BugKind = env.BugKind

// Failure kinds, after the kernel facility that would report them (the
// env constants, named here for tests of explorations).
const (
	BugUseAfterFree = env.BugUseAfterFree // KASAN: slab-use-after-free
	BugDoubleFree   = env.BugDoubleFree   // KASAN: double-free
	BugDeadlock     = env.BugDeadlock     // hung_task / lockdep circular locking
	BugLockdep      = env.BugLockdep      // recursive locking, bad unlock, sleeping in atomic context
	BugStepBound    = env.BugStepBound    // soft lockup / livelock
	BugPanic        = env.BugPanic        // Oops: a task panicked
	BugLeak         = env.BugLeak         // kmemleak and registered leak checks
	BugReplay       = env.BugReplay       // a replayed schedule diverged
	BugHung         = env.BugHung         // hung_task: a task blocked outside the scheduler
)

// Failure kinds only the simulator reports: they say the exploration itself
// could not be trusted or carried out, not that the scenario has a bug.
const (
	// BugSoftLockup is a task that ran for Config.Watchdog without a
	// schedule point (the kernel's soft-lockup watchdog).
	BugSoftLockup BugKind = "soft-lockup"
	// BugNondeterminism is a scenario that did not repeat itself when a
	// search re-ran it with the same choices: the search stops without a
	// verdict.
	BugNondeterminism BugKind = "nondeterminism"
	// BugBadInput is a bad DRVSIM_SEED or DRVSIM_SCHEDULE value: nothing
	// ran.
	BugBadInput BugKind = "bad-input"
)

// harness reports whether k says the run's outcome cannot be replayed as
// found: a replay that diverged, a nondeterministic scenario, bad input.
func harness(k BugKind) bool {
	return k == BugReplay || k == BugNondeterminism || k == BugBadInput
}

// Report is a failure of a run, printed like the kernel's splat for it; it
// is env.Report.
type Report = env.Report

// Step is one schedule point of a run: the task that reached it, the point,
// and the task the scheduler chose to run next.
type Step struct {
	// N numbers steps from 1.
	N int
	// Task reached the point ("" for the start of the run).
	Task string
	// Point is the schedule point.
	Point sched.Point
	// Next is the task chosen to run; "" when the run ended at this step.
	Next string
	// Runnable is how many tasks could have run.
	Runnable int
	// Preempt is true when Task could have continued but Next was chosen.
	Preempt bool

	alt         int    // alternative number of Next (0: the default choice)
	curRunnable bool   // Task could continue
	pre         int    // preemptions before this step
	taskID      int32  // Task's creation index, -1 for the start
	enabled     uint64 // the runnable tasks (addToSet)
}

// String renders the step as one line:
//
//	3 reader     cond_resched before read -> unplug (preempt)
func (st Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%4d %-10s %s", st.N, orSetup(st.Task), st.Point)
	if st.Next != "" {
		b.WriteString(" -> " + st.Next)
	}
	if st.Preempt {
		b.WriteString(" (preempt)")
	}
	return b.String()
}

// FaultHit counts how often a fault point was consulted in a run.
type FaultHit struct {
	// Point is the fault point's name.
	Point string
	// Hits is how many times it was consulted.
	Hits int
}

// Result is the outcome of one run.
type Result struct {
	// Seed and Mode of the run.
	Seed uint64
	Mode Mode
	// Replayed is true when the schedule was forced (Config.Replay or an
	// exhaustive search), so the replay hint names the schedule, not the
	// seed.
	Replayed bool
	// Steps is the schedule, one entry per schedule point.
	Steps []Step
	// Preemptions counts the steps with Preempt set.
	Preemptions int
	// Events is the trace recorded during the run.
	Events []trace.Event
	// Failure is nil when the run passed.
	Failure *Report
	// FaultHits lists the fault points consulted, in order of first hit.
	FaultHits []FaultHit
	// Now is the virtual time at the end of the run.
	Now time.Duration
	// Test and Pkg complete the replay hint.
	Test, Pkg string

	taskNames []string // the run's tasks in creation order
	hash      uint64   // of its schedule (Sim.hash)
	choices   int      // steps that chose a task
	// unknownTask is the task a replayed schedule asked for that the run
	// never had.
	unknownTask string
	// abandoned is true when the watchdog ended the run (a stuck task).
	abandoned bool
	sizes     sizes
}

// Failed reports whether the run failed.
func (r *Result) Failed() bool { return r.Failure != nil }

// Schedule returns the task chosen at each step: the value for
// Config.Replay (or DRVSIM_SCHEDULE) that replays this run exactly.
func (r *Result) Schedule() []string {
	out := make([]string, 0, len(r.Steps))
	for _, st := range r.Steps {
		if st.Next == "" {
			break
		}
		out = append(out, st.Next)
	}
	return out
}

// ScheduleText renders every step, one per line.
func (r *Result) ScheduleText() string {
	var b strings.Builder
	for _, st := range r.Steps {
		b.WriteString(st.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TraceText renders the trace, one event per line.
func (r *Result) TraceText() string { return trace.Text(r.Events) }

// Limits of the excerpts in Result.String.
const (
	reportSteps  = 20
	reportEvents = 30
)

// String renders the outcome: the failure report, the last steps of the
// schedule and of the trace, and a one-line replay hint.
func (r *Result) String() string {
	var b strings.Builder
	verdict := "passed"
	if r.Failed() {
		verdict = "FAILED"
	}
	how := fmt.Sprintf("%s, seed %d", r.Mode, r.Seed)
	if r.Replayed {
		how = "forced schedule"
	}
	fmt.Fprintf(&b, "drvsim: run %s (%s, %d steps, %d preemptions, virtual time %v)\n",
		verdict, how, len(r.Steps), r.Preemptions, r.Now)
	if !r.Failed() {
		return b.String()
	}
	b.WriteString(r.Failure.String())
	if r.Failure.Kind == BugBadInput {
		return b.String()
	}
	steps := r.Steps
	fmt.Fprintf(&b, "schedule (last %d of %d steps):\n", min(len(steps), reportSteps), len(steps))
	for _, st := range steps[max(0, len(steps)-reportSteps):] {
		b.WriteString(st.String() + "\n")
	}
	ev := r.Events
	fmt.Fprintf(&b, "trace (last %d of %d events):\n", min(len(ev), reportEvents), len(ev))
	b.WriteString(trace.Text(ev[max(0, len(ev)-reportEvents):]))
	if !harness(r.Failure.Kind) {
		b.WriteString("replay: " + r.ReplayHint() + "\n")
	}
	return b.String()
}

// ReplayHint returns the command line that replays this run, e.g.
//
//	DRVSIM_SEED=42 go test -run '^TestUnplug$' ./sim
//
// For a forced schedule it sets DRVSIM_SCHEDULE instead. The test must read
// them, with EnvConfig or SeedFromEnv and ScheduleFromEnv.
func (r *Result) ReplayHint() string {
	env := fmt.Sprintf("%s=%d", EnvSeed, r.Seed)
	if r.Replayed {
		env = fmt.Sprintf("%s=%s", EnvSchedule, shellQuote(FormatSchedule(r.Schedule())))
	}
	run := ""
	if r.Test != "" {
		parts := strings.Split(r.Test, "/")
		for i, p := range parts {
			parts[i] = "^" + p + "$"
		}
		run = " -run '" + strings.Join(parts, "/") + "'"
	}
	pkg := r.Pkg
	if pkg == "" {
		pkg = packageDir()
	}
	return fmt.Sprintf("%s go test%s %s", env, run, pkg)
}

func (s *Sim) result() *Result {
	r := &Result{
		Seed:        s.cfg.Seed,
		Mode:        s.cfg.Mode,
		Replayed:    s.cfg.Replay != nil || s.cfg.prefix != nil || s.cfg.Mode == Exhaustive,
		Steps:       s.steps,
		Preemptions: s.preemptions,
		Events:      nil,
		Now:         s.now,
		Test:        s.cfg.Test,
		Pkg:         s.cfg.Pkg,
	}
	r.hash, r.choices, r.unknownTask = s.hash, s.choices, s.unknownTask
	r.sizes = sizes{steps: len(s.steps), tasks: len(s.tasks), events: s.log.Len()}
	r.abandoned = s.abandoned.Load()
	if len(s.tasks) > 0 {
		r.taskNames = make([]string, len(s.tasks))
		for i, t := range s.tasks {
			r.taskNames[i] = t.name
		}
	}
	s.mu.Lock()
	r.Failure = s.failure
	if r.Failure != nil || !s.cfg.noEvents {
		r.Events = s.log.Events()
	}
	for _, p := range s.hitOrder {
		r.FaultHits = append(r.FaultHits, FaultHit{Point: p, Hits: s.hits[p]})
	}
	s.mu.Unlock()
	return r
}

// panicReport describes a panic in a task, with its stack trimmed to the
// frames above the panic.
func panicReport(task string, v any) *Report {
	stack := string(debug.Stack())
	// Keep what follows the runtime's panic frames.
	if i := strings.Index(stack, "\npanic("); i >= 0 {
		if j := strings.Index(stack[i+1:], "\n"); j >= 0 {
			rest := stack[i+1+j+1:]
			if k := strings.Index(rest, "\n"); k >= 0 {
				stack = rest[k+1:]
			}
		}
	}
	var frames []string
	lines := strings.Split(stack, "\n")
	for i := 0; i+1 < len(lines) && len(frames) < env.MaxFrames; i += 2 {
		fn := lines[i]
		if strings.HasPrefix(fn, "github.com/drvsim/drvsim/sim.") || strings.HasPrefix(fn, "runtime.") {
			continue
		}
		file := strings.TrimSpace(lines[i+1])
		if k := strings.LastIndex(file, " +0x"); k >= 0 {
			file = file[:k]
		}
		frames = append(frames, "    "+env.ShortFunc(cutArgs(fn))+" ("+baseFile(file)+")")
	}
	return &Report{
		Kind:    BugPanic,
		Title:   fmt.Sprintf("BUG: panic in task %s: %v", orSetup(task), v),
		Task:    task,
		Details: "Call trace:\n" + strings.Join(frames, "\n") + "\n",
	}
}

func cutArgs(fn string) string {
	if i := strings.LastIndex(fn, "("); i > 0 {
		return fn[:i]
	}
	return fn
}

// deadlockReport describes a run where every unfinished task is blocked:
// each task, what it waits for and who holds it, then the wait-for chain.
func (s *Sim) deadlockReport(step Step) *Report {
	var b strings.Builder
	fmt.Fprintf(&b, "every unfinished task is blocked and no timer is pending (virtual time %v).\n", s.now)
	holders := map[string]string{}
	waits := map[string]string{}
	for _, u := range s.alive {
		h := ""
		if u.wait.Holder != nil {
			h = u.wait.Holder()
		}
		holders[u.name], waits[u.name] = h, u.wait.What
		fmt.Fprintf(&b, "INFO: task %s blocked on %s", u.name, u.wait.What)
		if h != "" {
			fmt.Fprintf(&b, ", held by %s", h)
		} else {
			b.WriteString(", holder unknown")
		}
		b.WriteByte('\n')
	}
	b.WriteString("wait-for chain:\n")
	seen := map[string]bool{}
	for _, u := range s.alive {
		if seen[u.name] {
			continue
		}
		var chain strings.Builder
		chain.WriteString("  " + u.name)
		onPath := map[string]bool{}
		for n := u.name; ; {
			seen[n], onPath[n] = true, true
			w, blocked := waits[n]
			if !blocked {
				chain.WriteString(" (not blocked)")
				break
			}
			h := holders[n]
			fmt.Fprintf(&chain, " -> [%s]", w)
			if h == "" {
				break
			}
			chain.WriteString(" -> " + h)
			if onPath[h] {
				chain.WriteString(" (cycle)")
				break
			}
			if seen[h] {
				break
			}
			n = h
		}
		b.WriteString(chain.String() + "\n")
	}
	tasks := "tasks"
	if len(s.alive) == 1 {
		tasks = "task"
	}
	return &Report{Kind: BugDeadlock, Title: fmt.Sprintf("BUG: deadlock: %d %s blocked forever", len(s.alive), tasks),
		Task: step.Task, Details: b.String(), Step: step.N, Seq: s.log.Seq() + 1}
}

func baseFile(file string) string {
	if i := strings.LastIndex(file, "/"); i >= 0 {
		return file[i+1:]
	}
	return file
}

// badInputReport describes a bad DRVSIM_SEED or DRVSIM_SCHEDULE value.
func badInputReport(err error) *Report {
	return &Report{Kind: BugBadInput, Title: "drvsim: " + err.Error(),
		Details: "Nothing ran. Fix or unset the variable; the replay hint of a failure report gives a\nvalid one.\n"}
}

func init() {
	// A report's call sites end where the Sim calls the scenario or a
	// task's function.
	env.StopFramesAt("github.com/drvsim/drvsim/sim.(*Sim).setup", "github.com/drvsim/drvsim/sim.(*Sim).taskMain")
}
