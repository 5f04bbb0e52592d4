package sim

import (
	"errors"
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/trace"
)

// ErrInjected is wrapped by every error an injected fault returns; the
// failing component wraps it in its own errno (devres.ErrNoMemory, ...).
var ErrInjected = errors.New("sim: injected fault")

// FaultRule makes a named fault point fail, like a fail_function or
// failslab setting in the kernel's debugfs (fail_nth, probability).
type FaultRule struct {
	// Point is the fault point name (sched.FaultDevresAdd, sched.Probe(drv),
	// or a driver's own); "*" matches every point.
	Point string
	// Nth, when > 0, fails the Nth hit of the point (counting from 1), as
	// fail_nth does.
	Nth int
	// Probability, when > 0, fails each hit with this probability, drawn
	// from a PRNG seeded with Config.Seed.
	Probability float64
}

func (r FaultRule) matches(point string) bool { return r.Point == "*" || r.Point == point }

// Fault implements sched.Scheduler: it counts a hit of the named fault
// point and reports whether it fails. A failing hit emits a trace.Fault
// event and returns an error wrapping ErrInjected. It may be called from
// setup code as well as from tasks.
func (s *Sim) Fault(point string) error {
	s.mu.Lock()
	if s.hits == nil {
		s.hits = map[string]int{}
	}
	h := s.hits[point] + 1
	if h == 1 {
		s.hitOrder = append(s.hitOrder, point)
	}
	s.hits[point] = h
	fire := false
	for _, r := range s.cfg.Faults {
		if !r.matches(point) {
			continue
		}
		if r.Nth == h {
			fire = true
		}
		if r.Probability > 0 && s.faultRandom().Float64() < r.Probability {
			fire = true
		}
	}
	s.mu.Unlock()
	if !fire {
		return nil
	}
	s.log.Emit(trace.Event{Kind: trace.Fault, Func: "should_fail", Msg: fmt.Sprintf("%s hit %d: injected", point, h)})
	return fmt.Errorf("%w at %s (hit %d)", ErrInjected, point, h)
}

// SweepRun is one run of a fault sweep: the Hit-th hit of Point failed.
type SweepRun struct {
	// Point and Hit name the fault injected.
	Point string
	Hit   int
	// Result is the run's outcome.
	Result *Result
}

// SweepResult is the outcome of SweepFaults.
type SweepResult struct {
	// Baseline is the run without faults that discovered the points.
	Baseline *Result
	// Runs holds one run per (point, hit), in discovery order.
	Runs []SweepRun
}

// Failures returns the runs that failed.
func (r *SweepResult) Failures() []SweepRun {
	var out []SweepRun
	for _, run := range r.Runs {
		if run.Result.Failed() {
			out = append(out, run)
		}
	}
	return out
}

// Failed reports whether the baseline or any run failed.
func (r *SweepResult) Failed() bool { return r.Baseline.Failed() || len(r.Failures()) > 0 }

// String summarises the sweep, one line per run, then the first failure.
func (r *SweepResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fault sweep: %d runs, %d failed\n", len(r.Runs), len(r.Failures()))
	if r.Baseline.Failed() {
		b.WriteString("baseline run (no faults) failed:\n" + r.Baseline.String())
		return b.String()
	}
	for _, run := range r.Runs {
		verdict := "ok"
		if run.Result.Failed() {
			verdict = "FAIL: " + run.Result.Failure.Title
		}
		fmt.Fprintf(&b, "  %s hit %d: %s\n", run.Point, run.Hit, verdict)
	}
	if f := r.Failures(); len(f) > 0 {
		fmt.Fprintf(&b, "first failure (%s hit %d):\n%s", f[0].Point, f[0].Hit, f[0].Result)
	}
	return b.String()
}

// SweepFaults fails each fault point once, in turn, like a fail_nth loop:
// it runs the scenario once without faults to discover the points hit and
// their hit counts, then once per (point, hit) with exactly that hit
// failing (cfg.Faults is replaced). Every run uses cfg's seed and a fresh
// log. The sweep runs every combination; the result lists all.
func SweepFaults(cfg Config, scenario func(s *Sim)) *SweepResult {
	base := cfg
	base.Faults, base.Log = nil, nil
	res := &SweepResult{Baseline: Run(base, scenario)}
	if res.Baseline.Failed() {
		return res
	}
	for _, fh := range res.Baseline.FaultHits {
		for h := 1; h <= fh.Hits; h++ {
			c := base
			c.Faults = []FaultRule{{Point: fh.Point, Nth: h}}
			res.Runs = append(res.Runs, SweepRun{Point: fh.Point, Hit: h, Result: Run(c, scenario)})
		}
	}
	return res
}
