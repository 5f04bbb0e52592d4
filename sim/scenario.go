package sim

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Scenario is one named experiment for the explorer: what it runs, what
// exploring it must show, how it is explored by default, and a constructor
// of its scenario function. Every package that defines scenarios declares
// them with this type; package scenarios lists them all in one registry,
// which `drvsim explore`, `drvsim demo`, the tests and the docs use.
type Scenario struct {
	// Name is the registry key, e.g. "usb-skel-broken": `drvsim explore
	// NAME` runs it.
	Name string
	// Under says what runs, e.g. "merged design", "skel-broken driver",
	// "driver core".
	Under string
	// Description says in one or two sentences what races and what
	// exploring it shows.
	Description string
	// Want is the outcome exploration must show.
	Want Prediction
	// Defaults are the exploration settings `drvsim explore` uses when no
	// flag overrides them, and the registry's test explores with.
	Defaults Settings
	// New sets up one exploration: the scenario function, called once per
	// run, and what to call when the exploration is over. Every call
	// returns state of its own, so explorations of one scenario (the
	// workers of a parallel one) may run at the same time, each on its own
	// Setup.
	New func() Setup
}

// Prediction is the outcome exploring a Scenario must show.
type Prediction struct {
	// Bug is the kind of bug exploration must find, "" when no schedule
	// may fail.
	Bug BugKind
	// Endings, for a scenario that has them, are the consistent ways a run
	// may end: every passing run ends with one of them (its Setup counts
	// them), and an exhaustive exploration reaches each.
	Endings []string
}

// Settings are a Scenario's default exploration settings.
type Settings struct {
	// Mode is the exploration mode (Random is the zero value: a scenario
	// names its mode).
	Mode Mode
	// MaxPreemptions bounds the preemptions per schedule in Exhaustive
	// mode; 0 means unbounded.
	MaxPreemptions int
	// Schedules bounds the number of runs.
	Schedules int
}

// Setup is one exploration's instance of a Scenario.
type Setup struct {
	// Run builds the scenario afresh on the Sim it is given and starts its
	// tasks: sim.Explore(cfg, setup.Run).
	Run func(*Sim)
	// Close releases what the runs built (their Systems and rigs); nil
	// when there is nothing to release. Call it once, after the
	// exploration.
	Close func()
	// Endings, for a scenario with Prediction.Endings, returns how many of
	// the runs so far passed with each ending; nil otherwise.
	Endings func() map[string]int
}

// ScenarioResult is what one exploration of a Scenario showed.
type ScenarioResult struct {
	*ExploreResult
	// Endings counts the passing runs by ending; nil for a scenario
	// without endings.
	Endings map[string]int
}

// Config returns the exploration configuration of the scenario's
// defaults, for a caller to adjust (a seed, a replay, a test name).
func (sc *Scenario) Config() ExploreConfig {
	return ExploreConfig{Mode: sc.Defaults.Mode, Schedules: sc.Defaults.Schedules, MaxPreemptions: sc.Defaults.MaxPreemptions}
}

// Explore runs one exploration of the scenario under cfg: a fresh Setup
// per worker (PerWorker; one for a serial exploration), Explore on their
// Run, then their Close. The endings counted by every Setup are added up.
func (sc *Scenario) Explore(cfg ExploreConfig) *ScenarioResult {
	var mu sync.Mutex
	var setups []Setup
	run, done := PerWorker(func() (func(*Sim), func()) {
		st := sc.New()
		mu.Lock()
		setups = append(setups, st)
		mu.Unlock()
		return st.Run, st.Close
	})
	res := &ScenarioResult{ExploreResult: Explore(cfg, run)}
	done()
	for _, st := range setups {
		if st.Endings == nil {
			continue
		}
		if res.Endings == nil {
			res.Endings = map[string]int{}
		}
		for e, n := range st.Endings() {
			res.Endings[e] += n
		}
	}
	return res
}

// Check returns nil when res is the outcome the scenario predicts, and
// otherwise an error saying how it differs: the bug found is not the one
// predicted ("expected a use-after-free, found no failure"), a passing run
// ended in no predicted way, or an exhausted search did not reach every
// predicted ending.
func (sc *Scenario) Check(res *ScenarioResult) error {
	var found BugKind
	if res.Failed() {
		found = res.Failure.Failure.Kind
	}
	if found != sc.Want.Bug {
		return fmt.Errorf("expected %s, found %s", bugOrNone(sc.Want.Bug), bugOrNone(found))
	}
	if len(sc.Want.Endings) == 0 || res.Failed() {
		return nil
	}
	total := 0
	var unknown []string
	for e, n := range res.Endings {
		total += n
		if !slices.Contains(sc.Want.Endings, e) {
			unknown = append(unknown, fmt.Sprintf("%q", e))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("runs ended in ways not predicted: %s", strings.Join(unknown, ", "))
	}
	// The explorer's own checks (the replay that confirms determinism)
	// are runs too, so there may be more endings than schedules, never
	// fewer.
	if total < res.Schedules {
		return fmt.Errorf("%d of %d passing runs ended in none of the predicted ways", res.Schedules-total, res.Schedules)
	}
	if !res.Exhausted {
		return nil
	}
	var missed []string
	for _, e := range sc.Want.Endings {
		if res.Endings[e] == 0 {
			missed = append(missed, fmt.Sprintf("%q", e))
		}
	}
	if len(missed) > 0 {
		return fmt.Errorf("the exhausted search never reached %s", strings.Join(missed, ", "))
	}
	return nil
}

// bugOrNone names a bug kind as a prediction reads it: "a deadlock", or
// "no failure".
func bugOrNone(k BugKind) string {
	if k == "" {
		return "no failure"
	}
	return "a " + string(k)
}
