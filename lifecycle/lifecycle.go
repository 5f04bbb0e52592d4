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
// Scenarios declares them as sim.Scenario values, with their endings;
// package scenarios registers them, and `drvsim explore`, the bus tests
// (bus/async_sim_test.go) and the docs (docs/async_test.go, the traces of
// docs/testing.md) explore them.
package lifecycle

import (
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
	drvsim.Runs
}

// Count returns how many runs ended with e.
func (o *Outcomes) Count(e Ending) int { return o.Runs.Count(string(e)) }

// Counts returns the number of runs per ending (a copy).
func (o *Outcomes) Counts() map[Ending]int {
	out := map[Ending]int{}
	for e, n := range o.Endings() {
		out[Ending(e)] = n
	}
	return out
}

// check is the end of a scenario's end-of-run check: it counts the run's
// ending e if the check found nothing wrong (bad is empty), and returns
// bad.
func (o *Outcomes) check(e Ending, bad []string) []string { return o.End(string(e), bad) }

// scenario declares a driver-core scenario whose runs record into an
// Outcomes: each exploration gets Outcomes of its own, closed with it.
// No schedule may fail, and exhaustive exploration (within bound
// preemptions) reaches each of endings.
func scenario(name, about string, bound int, newRun func(*Outcomes) func(*sim.Sim), endings ...Ending) sim.Scenario {
	want := make([]string, len(endings))
	for i, e := range endings {
		want[i] = string(e)
	}
	return sim.Scenario{
		Name:        name,
		Under:       "driver core",
		Description: about,
		Want:        sim.Prediction{Endings: want},
		Defaults:    sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: bound, Schedules: 20000},
		New: func() sim.Setup {
			o := &Outcomes{}
			return sim.Setup{Run: newRun(o), Close: o.Close, Endings: o.Endings}
		},
	}
}

// Scenarios returns the driver core's scenarios, in a fixed order.
// Package scenarios registers them; `drvsim explore NAME` runs them.
func Scenarios() []sim.Scenario {
	return []sim.Scenario{
		scenario("async-probe-vs-rmmod",
			"An asynchronous probe (async_schedule_dev from device_add) races driver_unregister; "+
				"driver_detach waits for it (async_synchronize_full), so every schedule ends with the device "+
				"unbound and the probe undone, or never run.",
			0, AsyncProbeVsUnregister, ProbedThenDetached, NotProbedDriverGone),
		scenario("async-attach-vs-rmmod",
			"The same race with the device added first: driver_register's driver_attach queues the "+
				"asynchronous probe (__driver_attach_async_helper), which probes the driver queued on the "+
				"device, on the bus or not; driver_detach waits for it, so every schedule ends with the "+
				"device probed, then unbound.",
			0, AsyncAttachVsUnregister, ProbedThenDetached),
		scenario("async-probe-vs-unplug",
			"An asynchronous probe races device_del; every schedule ends with the device unbound, "+
				"removed and released: probed then unbound, or skipped by __device_attach_async_helper as dead.",
			0, AsyncProbeVsRemoval, ProbedThenDeleted, SkippedDeviceDead),
		scenario("revocable-readers-vs-unregister",
			"Two readers with open consumers of a driver's devm-managed revocable provider read its "+
				"registers, sleeping inside the read section, while device_unregister unbinds the driver: "+
				"the revoke waits for readers inside, then devres frees the registers. Every read finds "+
				"the registers or -ENODEV, nothing touches freed memory.",
			2, RevocableReadersVsUnregister, BothRead, OneReadOneRevoked, BothRevoked),
	}
}
