// Package lifecycle holds driver-core lifecycle scenarios: races the
// explorer checks. Each scenario builds a drvsim.System on the Sim it is
// given (with the Sim as its scheduler), starts the racing tasks and adds
// an end-of-run check (s.AddLeakCheck) that fails the run unless the
// system ended in a consistent state; it runs once per explored schedule:
//
//	o := &lifecycle.Outcomes{}
//	defer o.Close()
//	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, lifecycle.AsyncProbeVsRemoval(o))
//	// res.Failed() is false; o.Count(lifecycle.SkippedDeviceDead) > 0
//
// The Outcomes record which of the scenario's possible endings each
// passing run had, so a test can check that exploration reached all of
// them, and close the Systems the runs built.
//
// bus/async_sim_test.go and docs/async_test.go (the traces of
// docs/testing.md) explore them, and `drvsim explore` runs the ones
// Scenarios lists.
package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/sim"
)

// Ending is one way a run of a scenario may end consistently, e.g.
// SkippedDeviceDead.
type Ending string

// Outcomes collects, across the runs of one exploration, the ending of
// every run that passed its end-of-run check, and the Systems the runs
// built: a scenario's end-of-run check closes its run's System once it has
// looked at it, Close closes those of the runs that failed before. The zero
// value is ready to use; it is safe for concurrent use. Every scenario
// function needs a non-nil *Outcomes. Call Close when the exploration is
// over.
type Outcomes struct {
	mu      sync.Mutex
	counts  map[Ending]int
	systems map[*drvsim.System]bool // built and not closed yet
}

// Count returns how many runs ended with e.
func (o *Outcomes) Count(e Ending) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[e]
}

// Counts returns the number of runs per ending (a copy).
func (o *Outcomes) Counts() map[Ending]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[Ending]int, len(o.counts))
	for e, n := range o.counts {
		out[e] = n
	}
	return out
}

// String lists the endings seen with their counts, in order of the
// endings' text: `"not probed: driver gone": 3, "probed, ...": 5`.
func (o *Outcomes) String() string {
	counts := o.Counts()
	var keys []Ending
	for e := range counts {
		keys = append(keys, e)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, e := range keys {
		parts[i] = fmt.Sprintf("%q: %d", e, counts[e])
	}
	return strings.Join(parts, ", ")
}

// Close closes every System the runs built that is not closed yet
// (System.Close stops its async-probe worker goroutine). The Outcomes stay
// readable, and may be used again. Close is idempotent.
func (o *Outcomes) Close() {
	o.mu.Lock()
	systems := o.systems
	o.systems = nil
	o.mu.Unlock()
	for sys := range systems {
		sys.Close()
	}
}

// closeSystem closes sys, a System o built, when its run is over.
func (o *Outcomes) closeSystem(sys *drvsim.System) {
	o.mu.Lock()
	delete(o.systems, sys)
	o.mu.Unlock()
	sys.Close()
}

// check is the end of a scenario's end-of-run check: it counts the run's
// ending e if the check found nothing wrong (bad is empty), and returns
// bad.
func (o *Outcomes) check(e Ending, bad []string) []string {
	if len(bad) > 0 {
		return bad
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[Ending]int{}
	}
	o.counts[e]++
	return nil
}

// system is drvsim.NewSystem on the Sim: the System records into the
// Sim's trace and, with the Sim as its scheduler, every asynchronous probe
// runs as a task named async_probe. The run's end-of-run check, or
// o.Close, closes it.
func (o *Outcomes) system(s *sim.Sim) *drvsim.System {
	sys := drvsim.NewSystem(drvsim.OnSim(s))
	o.mu.Lock()
	if o.systems == nil {
		o.systems = map[*drvsim.System]bool{}
	}
	o.systems[sys] = true
	o.mu.Unlock()
	return sys
}

// Scenario is one registered scenario: `drvsim explore NAME` runs it.
type Scenario struct {
	// Name is the registry key, e.g. "async-probe-vs-unplug".
	Name string
	// Description says in one or two sentences what races and what every
	// schedule must end with.
	Description string
	// Endings are the ways a run may end; exhaustive exploration reaches
	// each of them. No schedule may fail.
	Endings []Ending
	// New returns the scenario function, which records into o:
	// sim.Explore(cfg, sc.New(o)).
	New func(o *Outcomes) func(*sim.Sim)
}

// Scenarios returns the registry, in a fixed order.
func Scenarios() []Scenario {
	return []Scenario{
		{
			Name: "async-probe-vs-rmmod",
			Description: "An asynchronous probe (async_schedule_dev from device_add) races driver_unregister; " +
				"driver_detach waits for it (async_synchronize_full), so every schedule ends with the device " +
				"unbound and the probe undone, or never run.",
			Endings: []Ending{ProbedThenDetached, NotProbedDriverGone},
			New:     AsyncProbeVsUnregister,
		},
		{
			Name: "async-probe-vs-unplug",
			Description: "An asynchronous probe races device_del; every schedule ends with the device unbound, " +
				"removed and released: probed then unbound, or skipped by __device_attach_async_helper as dead.",
			Endings: []Ending{ProbedThenDeleted, SkippedDeviceDead},
			New:     AsyncProbeVsRemoval,
		},
	}
}

// Lookup returns the scenario named name.
func Lookup(name string) (Scenario, bool) {
	for _, sc := range Scenarios() {
		if sc.Name == name {
			return sc, true
		}
	}
	return Scenario{}, false
}
