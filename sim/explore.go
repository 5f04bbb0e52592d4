package sim

import (
	"fmt"
	"strings"
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
	// Shrink, on a failure, replays the failing schedule with preemptions
	// removed one at a time, keeping each removal that still fails the same
	// way; the result is ExploreResult.Shrunk.
	Shrink bool
	// Progress, if set, is called after every run.
	Progress func(Progress)
}

// Progress reports an exploration's advance to a progress callback.
type Progress struct {
	// Schedules run so far, and the bound.
	Schedules, Limit int
	// Failed is true once a failing schedule was found (the last call).
	Failed bool
}

// ExploreResult is the outcome of Explore.
type ExploreResult struct {
	// Mode explored.
	Mode Mode
	// Schedules is the number of runs made (the shrinking runs excluded).
	Schedules int
	// Exhausted is true when an exhaustive search covered every
	// interleaving (within MaxPreemptions).
	Exhausted bool
	// Failure is the first failing run, nil if none failed.
	Failure *Result
	// Shrunk is the failing run with fewer preemptions, when
	// ExploreConfig.Shrink found one; nil otherwise.
	Shrunk *Result
}

// Failed reports whether a failing schedule was found.
func (r *ExploreResult) Failed() bool { return r.Failure != nil }

// String summarises the exploration; on failure it includes the failing
// run's report and replay hint.
func (r *ExploreResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "explore (%s): %d schedules", r.Mode, r.Schedules)
	if r.Exhausted {
		b.WriteString(", space exhausted")
	}
	if r.Failure == nil {
		b.WriteString(", no failure\n")
		return b.String()
	}
	fmt.Fprintf(&b, ", failure found in schedule %d\n", r.Schedules)
	b.WriteString(r.Failure.String())
	if r.Shrunk != nil {
		fmt.Fprintf(&b, "shrunk to %d preemptions (from %d):\n", r.Shrunk.Preemptions, r.Failure.Preemptions)
		b.WriteString(r.Shrunk.ScheduleText())
		b.WriteString("replay: " + r.Shrunk.ReplayHint() + "\n")
	}
	return b.String()
}

// Explore runs scenario under many schedules and stops at the first
// failure, the way a kernel stress test hunts a race, except that every
// schedule can be replayed: a random or PCT failure from its seed, an
// exhaustive one from its schedule (both are in the Result's replay hint).
//
// scenario must build everything afresh on the Sim it is given (it runs
// once per schedule) and must be deterministic apart from the schedule.
func Explore(cfg ExploreConfig, scenario func(s *Sim)) *ExploreResult {
	if cfg.Schedules <= 0 {
		cfg.Schedules = 1000
	}
	base := cfg.Config
	base.Log, base.Mode = nil, cfg.Mode
	res := &ExploreResult{Mode: cfg.Mode}
	run := func(c Config) *Result {
		r := Run(c, scenario)
		res.Schedules++
		if cfg.Progress != nil {
			cfg.Progress(Progress{Schedules: res.Schedules, Limit: cfg.Schedules, Failed: r.Failed()})
		}
		if r.Failed() {
			res.Failure = r
		}
		return r
	}
	defer func() {
		if res.Failure != nil && cfg.Shrink {
			res.Shrunk = shrink(base, scenario, res.Failure)
		}
	}()
	if base.Replay != nil {
		run(base)
		return res
	}
	switch cfg.Mode {
	case Exhaustive:
		prefix := []int{}
		for res.Schedules < cfg.Schedules {
			c := base
			c.prefix = prefix
			r := run(c)
			if r.Failed() {
				return res
			}
			if prefix = nextPrefix(r.Steps, cfg.MaxPreemptions); prefix == nil {
				res.Exhausted = true
				return res
			}
		}
		return res
	case PCT:
		if base.PCTSteps <= 0 {
			// Measure k, the length of a run, on the schedule without
			// preemptions.
			c := base
			c.Mode = Exhaustive
			r := run(c)
			if r.Failed() {
				return res
			}
			base.PCTSteps = max(1, len(r.Steps))
		}
	}
	for i := 0; res.Schedules < cfg.Schedules; i++ {
		c := base
		c.Seed = base.Seed + uint64(i)
		if run(c).Failed() {
			return res
		}
	}
	return res
}

// nextPrefix returns the forced choices of the next schedule of the
// depth-first search: the deepest step with an untried alternative, within
// the preemption bound; nil when the search is exhausted.
func nextPrefix(steps []Step, bound int) []int {
	for i := len(steps) - 1; i >= 0; i-- {
		st := steps[i]
		if st.Next == "" {
			continue
		}
		alt := st.alt + 1
		if alt >= st.Runnable {
			continue
		}
		if bound > 0 && st.curRunnable && st.pre+1 > bound {
			continue // every alternative left is a preemption
		}
		p := make([]int, i+1)
		for j := 0; j < i; j++ {
			p[j] = steps[j].alt
		}
		p[i] = alt
		return p
	}
	return nil
}

// shrinkBudget bounds the runs spent shrinking one failure.
const shrinkBudget = 200

// shrink removes preemptions from a failing schedule one at a time: at a
// preempting step it lets the current task continue instead, replays the
// rest of the schedule leniently, and keeps the change when the run still
// fails with the same kind of bug and fewer preemptions. It returns nil
// when nothing could be removed.
func shrink(base Config, scenario func(*Sim), failing *Result) *Result {
	best := failing
	runs := 0
	for i := 0; i < len(best.Steps) && runs < shrinkBudget; i++ {
		st := best.Steps[i]
		if !st.Preempt {
			continue
		}
		sch := best.Schedule()
		cand := append(append(make([]string, 0, len(sch)), sch[:i]...), st.Task)
		if i+1 < len(sch) {
			cand = append(cand, sch[i+1:]...)
		}
		c := base
		c.Mode, c.prefix, c.Replay, c.lenient = Random, nil, cand, true
		r := Run(c, scenario)
		runs++
		if r.Failed() && r.Failure.Kind == failing.Failure.Kind && r.Preemptions < best.Preemptions {
			best = r
		}
	}
	if best == failing {
		return nil
	}
	return best
}
