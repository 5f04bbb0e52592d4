package sim

import "fmt"

// Every failure Explore reports is checked and minimized:
//
//   - confirm replays the failing schedule with the failing run as the
//     reference: the replay must take the same steps and fail with the
//     same report, or the scenario is nondeterministic and the failure is
//     not reported as a finding;
//   - minimize searches exhaustively every schedule with 0 preemptions,
//     then every schedule with at most 1, and so on up to the failure's
//     count, for a run that fails with the same report title. The first
//     bound at which one fails gives the fewest preemptions any schedule
//     needs to fail that way, and the first such schedule in the search's
//     order is reported (ExploreResult.Minimal): the same schedule
//     whichever failure the search started from. The search is bounded by
//     ExploreConfig.MinimizeBudget runs; the result says how far it got.

// confirm replays r's schedule; nil when the replay repeats r, otherwise
// the replay, failed with a nondeterminism report.
func (x *explorer) confirm(r *Result) *Result {
	c := x.base
	c.Seed, c.Mode = r.Seed, r.Mode
	c.Replay = r.Schedule()
	if c.Replay == nil {
		c.Replay = []string{}
	}
	c.ref = newReference(r, r.choices)
	rr := x.extraRun(c)
	if rr.Failed() && harness(rr.Failure.Kind) {
		rr.Failure.Details += "(found replaying the failing schedule to confirm it)\n"
		return rr
	}
	what := ""
	switch {
	case r.Failed() && !rr.Failed():
		what = fmt.Sprintf("the schedule failed (%s), but replayed it passes", r.Failure.Title)
	case !r.Failed() && rr.Failed():
		what = fmt.Sprintf("the schedule passed, but replayed it fails (%s)", rr.Failure.Title)
	case r.Failed() && (rr.Failure.Kind != r.Failure.Kind || rr.Failure.Title != r.Failure.Title):
		what = fmt.Sprintf("the schedule failed with %q, but replayed it fails with %q", r.Failure.Title, rr.Failure.Title)
	case len(rr.Steps) != len(r.Steps):
		what = fmt.Sprintf("the schedule took %d steps, but replayed it takes %d", len(r.Steps), len(rr.Steps))
	default:
		return nil
	}
	rr.Failure = nil
	s := &Sim{cfg: c, log: nil}
	rep := s.nondeterminismReport(&Step{N: len(rr.Steps)}, what)
	rep.Details += "(found replaying the failing schedule to confirm it)\n"
	rr.Failure = rep
	return rr
}

// minimize searches for the failing schedule with the fewest preemptions
// (see above) and records it in res.
func (x *explorer) minimize(res *ExploreResult) {
	f := res.Failure
	target := f.Failure
	accept := func(r *Result) bool {
		return r.Failed() && (r.Failure.Kind == BugNondeterminism ||
			r.Failure.Kind == target.Kind && r.Failure.Title == target.Title)
	}
	res.Minimal, res.MinimalBound = f, -1
	budget := x.cfg.MinimizeBudget
	// The search goes up to the failure's own bound: at that bound it
	// finds the first failing schedule in the search's order, which is the
	// same whichever failure started it (a serial search's, a worker's or
	// a shard's), so the reported schedule does not depend on how the
	// exploration was split.
	for b := 0; b <= f.Preemptions; b++ {
		if budget <= 0 {
			return
		}
		s := x.newSearch(b, budget, accept, true, []*unit{{prefix: []int{}}})
		units := s.run(x.cfg.Workers)
		var found *Result
		complete := !s.timedOut.Load()
		for _, u := range units {
			budget -= u.count
			if u.fail != nil {
				found = u.fail
				break
			}
			complete = complete && u.complete
		}
		if found != nil {
			if found.Failure.Kind == BugNondeterminism {
				res.Failure, res.Minimal, res.Exhausted = found, nil, false
				return
			}
			if bad := x.confirm(found); bad != nil {
				res.Failure, res.Minimal, res.Exhausted = bad, nil, false
				return
			}
			res.Minimal = found
			res.MinimalProven = res.MinimalBound == b-1
			return
		}
		if !complete {
			return
		}
		res.MinimalBound = b
	}
	res.MinimalProven = true
}
