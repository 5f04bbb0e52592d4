package sim

import (
	"fmt"
	"strings"
)

// Exploration re-runs the scenario from the start for every schedule: an
// exhaustive search forces the choices of an earlier run up to a step and
// then tries another alternative there, and a replay forces a recorded
// schedule. Both assume the scenario does the same thing whenever it is
// given the same choices. A scenario that does not (tasks started in Go
// map order, the wall clock, an unseeded random number, state kept between
// runs) would make the search count schedules it never ran and miss
// others, so every forced step is compared with the run it was taken from,
// as shuttle and loom do: the task that reached it, the schedule point and
// the set of runnable tasks. A difference fails the run with a
// nondeterminism report, and the exploration stops without a verdict.

// reference is the earlier run a forced prefix was taken from.
type reference struct {
	steps []Step   // its steps
	names []string // its tasks, in creation order
	limit int      // steps [0, limit) must repeat it
}

// newReference records r's first limit steps as the reference of a run
// forced along them.
func newReference(r *Result, limit int) *reference {
	return &reference{steps: r.Steps, names: r.taskNames, limit: limit}
}

// checkStep compares step with the reference run; false when they differ
// (the run has failed).
func (s *Sim) checkStep(step *Step) bool {
	ref := s.cfg.ref
	if ref == nil || step.N > ref.limit {
		return true
	}
	r := &ref.steps[step.N-1]
	if r.Task == step.Task && r.Point == step.Point && r.enabled == step.enabled && r.Runnable == step.Runnable {
		return true
	}
	now := s.setNames(step.enabled, nil)
	then := s.setNames(r.enabled, ref.names)
	s.fail(s.nondeterminismReport(step, fmt.Sprintf("earlier run: task %s at %s, runnable {%s}\n  this run:    task %s at %s, runnable {%s}",
		orSetup(r.Task), r.Point, then, orSetup(step.Task), step.Point, now)))
	return false
}

// checkSpawn compares a task created before the end of the reference
// prefix with the task the reference run created in its place.
func (s *Sim) checkSpawn(t *task) {
	ref := s.cfg.ref
	if ref == nil || len(s.steps) >= ref.limit || s.failed.Load() {
		return
	}
	then := "no task"
	if t.id < len(ref.names) {
		if ref.names[t.id] == t.name {
			return
		}
		then = "task " + ref.names[t.id]
	}
	step := &Step{N: len(s.steps) + 1}
	if u := s.cur.Load(); u != nil {
		step.Task = u.name
	}
	s.fail(s.nondeterminismReport(step, fmt.Sprintf("the task created %s is %s in this run, %s in the earlier run:\n  tasks were started in a different order (Go map order?)",
		ordinal(t.id+1), t.name, then)))
}

// checkEnd fails a run that ended (or failed) before it made the choices
// of the reference prefix: the reference run went on from there.
func (s *Sim) checkEnd() {
	ref := s.cfg.ref
	n := s.choices
	if ref == nil || n >= ref.limit {
		return
	}
	step := &Step{N: n + 1}
	what := fmt.Sprintf("this run ended after %d steps; the earlier run, given the same choices, went on past step %d", n, ref.limit)
	s.mu.Lock()
	f := s.failure
	s.mu.Unlock()
	if f != nil && harness(f.Kind) {
		return
	}
	if f != nil {
		what = fmt.Sprintf("this run failed at step %d (%s); the earlier run, given the same choices, passed that point", n, f.Title)
		s.mu.Lock()
		s.failure = nil
		s.mu.Unlock()
	}
	s.fail(s.nondeterminismReport(step, what))
}

// setNames lists the tasks of an enabled set by name: ids index names
// (this run's tasks when names is nil). Past 64 tasks the set is a hash.
func (s *Sim) setNames(set uint64, names []string) string {
	if names == nil {
		names = make([]string, len(s.tasks))
		for i, t := range s.tasks {
			names[i] = t.name
		}
	}
	if len(names) > 64 {
		return fmt.Sprintf("a set of tasks hashed to %#x", set)
	}
	var out []string
	for id, n := range names {
		if set&(1<<uint(id)) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// nondeterminismReport describes a run that did not repeat the run its
// forced choices came from.
func (s *Sim) nondeterminismReport(step *Step, what string) *Report {
	return &Report{
		Kind:  BugNondeterminism,
		Title: fmt.Sprintf("nondeterminism at step %d: the scenario did not repeat itself", step.N),
		Task:  step.Task,
		Details: "Exploration re-runs the scenario for every schedule and needs it to do the same thing\n" +
			"whenever it is given the same choices. At this step it did not:\n  " + what + "\n" +
			"Common causes: tasks started or woken in Go map order, the wall clock, an unseeded random\n" +
			"number, state kept between runs (a package variable), goroutines that are not tasks.\n" +
			"The exploration stopped: its counts and its verdict would not be true.\n",
		Step: step.N,
		Seq:  s.log.Seq() + 1,
	}
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
