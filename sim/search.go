package sim

import (
	"slices"
	"sync"
	"sync/atomic"
)

// The exhaustive search is a depth-first search over the tree of choices:
// a node is a schedule point, its branches the runnable tasks, numbered so
// that 0 continues the current task (see altToIdx). Every run is a leaf;
// the serial search visits the leaves in lexicographic order of their
// choice sequences, re-running the scenario from the start with a forced
// prefix for each (nextPrefix), as CHESS does.
//
// Parallel workers split the tree into units: a unit is the subtree under
// a prefix, explored depth-first by one worker. A worker that sees another
// idle gives away the untried branches at the shallowest depth of its unit
// (the biggest and last part of its remaining work) as new units, and goes
// on below that depth. The units' regions are disjoint, and ordering units
// by prefix (a prefix before its extensions) orders the regions as the
// serial search visits them; so the counts and the first failure of the
// serial search are recovered by summing unit results in prefix order, and
// the first failing unit in that order has the serial first failure.

// unit is one subtree of the exhaustive search.
type unit struct {
	prefix []int
	ref    *reference // the run prefix came from (nil: the root)
	single bool       // only the first leaf: a shard's split point
	first  *Result    // that leaf, when already run

	count    int     // leaves explored
	fail     *Result // the failing leaf that ended the unit
	complete bool    // every leaf of the region explored (or fail)
	finished bool    // its worker is done with it (guarded by search.mu)
}

// prefixLess orders prefixes lexicographically, a prefix before its
// extensions: the order in which the serial search reaches them.
func prefixLess(a, b []int) bool { return slices.Compare(a, b) < 0 }

// search is one exhaustive search (the exploration's, or one bound of the
// minimization).
type search struct {
	x      *explorer
	bound  int                  // preemption bound, -1: none
	limit  int                  // leaves at most (serial order)
	accept func(r *Result) bool // a leaf that ends the search
	extra  bool                 // its runs are extra ones (explorer.make)
	wg     sync.WaitGroup       // the workers

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []*unit
	units    []*unit
	active   int
	idle     atomic.Int32
	queued   atomic.Int32
	failKey  []int // smallest prefix of a unit that failed
	capKey   []int // units after this one are past the schedules bound
	pruned   atomic.Bool
	timedOut atomic.Bool
}

// newSearch returns a search over the units, run by x's workers.
func (x *explorer) newSearch(bound, limit int, accept func(*Result) bool, extra bool, units []*unit) *search {
	s := &search{x: x, bound: bound, limit: limit, accept: accept, extra: extra, units: units}
	s.cond = sync.NewCond(&s.mu)
	s.queue = append(s.queue, units...)
	s.queued.Store(int32(len(s.queue)))
	return s
}

// run explores every unit with the configured workers and returns the
// units, sorted by prefix.
func (s *search) run(workers int) []*unit {
	s.wg.Add(workers)
	for w := range workers {
		k := &walker{s: s, w: w}
		k.then = k.work
		go k.work(nil)
	}
	s.wg.Wait()
	slices.SortFunc(s.units, func(a, b *unit) int { return slices.Compare(a.prefix, b.prefix) })
	return s.units
}

// walker is one worker's walk through its units: the unit it explores and
// where it is in that unit's region. The walk is kept here, not in a
// goroutine's locals, so that another goroutine can carry it on: the
// worker drives its runs itself, and when a run is stuck its goroutine is
// stuck with it (see runHere).
type walker struct {
	s        *search
	w        int           // the worker's index (Sim.Worker)
	then     func(*Result) // work, as the runs' continuation
	u        *unit         // the unit explored, nil between units
	prefix   []int         // of the next run
	ref      *reference
	minDepth int // the depth above which the unit gave its branches away
}

// work explores units depth-first until none is left, then ends the
// worker. r, when not nil, is the result of the run of the walk's current
// unit that the worker's previous goroutine lost: the walk goes on from
// it. work returns early, without ending the worker, when this goroutine
// loses a run in turn.
func (k *walker) work(r *Result) {
	s := k.s
	for {
		if k.u == nil {
			if k.u = s.take(); k.u == nil {
				s.wg.Done()
				return
			}
			k.prefix, k.ref, k.minDepth = k.u.prefix, k.u.ref, len(k.u.prefix)
			if r = k.u.first; r != nil && s.cancelled(k.u) {
				k.end()
				continue
			}
		}
		if r == nil {
			if s.cancelled(k.u) {
				k.end()
				continue
			}
			c := s.x.base
			c.Mode, c.prefix, c.ref, c.worker = Exhaustive, k.prefix, k.ref, k.w
			var ok bool
			if r, ok = s.x.makeRun(c, s.extra, k.then); !ok {
				return // k.then carries the walk on
			}
		}
		if !k.next(r) {
			k.end()
		}
		r = nil
	}
}

// end ends the walk's unit.
func (k *walker) end() {
	k.s.done(k.u)
	k.u = nil
}

// next counts the leaf r of the walk's unit and moves the walk to the next
// leaf of the depth-first search; false when the unit is over (a failure,
// the schedules bound, or no leaf left).
func (k *walker) next(r *Result) bool {
	s, u := k.s, k.u
	u.count++
	if s.accept(r) {
		u.fail, u.complete = r, true
		return false
	}
	if u.single {
		u.complete = true
		return false
	}
	if u.count >= s.limit {
		return false
	}
	next, pruned := nextPrefix(r.Steps, s.bound, k.minDepth)
	if pruned {
		s.pruned.Store(true)
	}
	if next == nil {
		u.complete = true
		return false
	}
	if s.idle.Load() > 0 && s.queued.Load() == 0 {
		if d := s.donate(r, k.minDepth, len(next)-1); d >= 0 {
			k.minDepth = d + 1
		}
	}
	k.prefix, k.ref = next, newReference(r, len(next))
	return true
}

// take returns the queued unit with the smallest prefix, waiting while
// other workers may still give some away; nil when the search is over.
func (s *search) take() *unit {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) == 0 && s.active > 0 {
		s.idle.Add(1)
		s.cond.Wait()
		s.idle.Add(-1)
	}
	if len(s.queue) == 0 {
		s.cond.Broadcast()
		return nil
	}
	i := 0
	for j, u := range s.queue {
		if prefixLess(u.prefix, s.queue[i].prefix) {
			i = j
		}
	}
	u := s.queue[i]
	s.queue = slices.Delete(s.queue, i, i+1)
	s.queued.Add(-1)
	s.active++
	return u
}

// done ends a worker's unit and wakes the idle workers.
func (s *search) done(u *unit) {
	s.mu.Lock()
	s.active--
	u.finished = true
	if u.fail != nil && (s.failKey == nil || prefixLess(u.prefix, s.failKey)) {
		s.failKey = u.prefix
	}
	s.checkLimit()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// checkLimit sets capKey once the completed units at the head of the
// serial order hold the schedules bound: the units after it are not needed.
// Called with s.mu held.
func (s *search) checkLimit() {
	if s.capKey != nil {
		return
	}
	sorted := slices.Clone(s.units)
	slices.SortFunc(sorted, func(a, b *unit) int { return slices.Compare(a.prefix, b.prefix) })
	total := 0
	for _, u := range sorted {
		if !u.finished {
			return
		}
		total += u.count
		if total >= s.limit {
			s.capKey = u.prefix
			return
		}
		if !u.complete || u.fail != nil {
			return
		}
	}
}

// cancelled reports whether unit u's region comes after a failure or the
// schedules bound, or time ran out: exploring it cannot change the result.
func (s *search) cancelled(u *unit) bool {
	if s.x.outOfTime() {
		s.timedOut.Store(true)
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return (s.failKey != nil && prefixLess(s.failKey, u.prefix)) || (s.capKey != nil && prefixLess(s.capKey, u.prefix))
}

// donate gives idle workers the untried branches at the shallowest depth
// (at least minDepth) of the leaf r, keeping the branch at depth deepest
// that the worker goes on with when that is the same depth. It returns the
// depth given away, -1 for none.
func (s *search) donate(r *Result, minDepth, deepest int) int {
	for d := minDepth; d <= deepest; d++ {
		st := r.Steps[d]
		from := st.alt + 1
		if d == deepest {
			from++ // the worker's own next branch
		}
		if st.Next == "" || from >= st.Runnable || !s.allowed(st) {
			continue
		}
		alts := make([]int, d)
		for j := range d {
			alts[j] = r.Steps[j].alt
		}
		ref := newReference(r, d+1)
		s.mu.Lock()
		for a := from; a < st.Runnable; a++ {
			nu := &unit{prefix: append(slices.Clone(alts), a), ref: ref}
			s.units = append(s.units, nu)
			s.queue = append(s.queue, nu)
			s.queued.Add(1)
		}
		s.cond.Broadcast()
		s.mu.Unlock()
		return d
	}
	return -1
}

// allowed reports whether the alternatives after the default at st stay
// within the preemption bound.
func (s *search) allowed(st Step) bool {
	return s.bound < 0 || !st.curRunnable || st.pre+1 <= s.bound
}

// nextPrefix returns the forced choices of the next schedule of the
// depth-first search: the deepest step, at depth minDepth or below, with
// an untried alternative within the preemption bound (-1: none); nil when
// the search of the subtree is over. pruned is true when the bound cut
// off an alternative on the way.
func nextPrefix(steps []Step, bound, minDepth int) (next []int, pruned bool) {
	for i := len(steps) - 1; i >= minDepth; i-- {
		st := steps[i]
		if st.Next == "" {
			continue
		}
		alt := st.alt + 1
		if alt >= st.Runnable {
			continue
		}
		if bound >= 0 && st.curRunnable && st.pre+1 > bound {
			pruned = true
			continue // every alternative left is a preemption
		}
		p := make([]int, i+1)
		for j := 0; j < i; j++ {
			p[j] = steps[j].alt
		}
		p[i] = alt
		return p, pruned
	}
	return nil, pruned
}

// exhaustive runs the exploration's depth-first search.
func (x *explorer) exhaustive(res *ExploreResult) {
	bound := x.cfg.MaxPreemptions
	if bound <= 0 {
		bound = -1
	}
	units := []*unit{{prefix: []int{}}}
	if x.cfg.Shard.N > 1 {
		units = x.shardUnits(bound)
	}
	s := x.newSearch(bound, x.cfg.Schedules, (*Result).Failed, false, units)
	sorted := s.run(x.cfg.Workers)
	if s.pruned.Load() {
		x.mu.Lock()
		x.pruned = true
		x.mu.Unlock()
	}
	x.collect(res, sorted, s.timedOut.Load())
}

// collect sums the units in serial order into res: the serial search's
// count, first failure and exhaustion.
func (x *explorer) collect(res *ExploreResult, units []*unit, timedOut bool) {
	total, complete := 0, true
	for _, u := range units {
		res.Units = append(res.Units, u.summary())
	}
	if timedOut {
		// Stopped by time: the counts are what ran, in whatever order.
		for _, u := range units {
			total += u.count
			if u.fail != nil && res.Failure == nil {
				res.Failure = u.fail
			}
		}
		res.Schedules = total
		if res.Failure == nil {
			res.Stopped = "time"
		}
		return
	}
	for _, u := range units {
		left := x.cfg.Schedules - total
		if u.fail != nil && u.count <= left {
			res.Schedules, res.Failure = total+u.count, u.fail
			return
		}
		if u.count >= left {
			res.Schedules = x.cfg.Schedules
			complete = u.complete && u.count == left && u == units[len(units)-1]
			res.Exhausted = complete
			return
		}
		total += u.count
		complete = complete && u.complete
	}
	res.Schedules = total
	res.Exhausted = complete
}

// seeded runs a random or PCT exploration: schedule i of the search is
// seed Seed+i (for PCT, schedule 0 measures the length of a run without
// preemptions and schedule i > 0 is seed Seed+i-1). Workers take the
// schedules in order; the first failing one in that order is the serial
// search's.
func (x *explorer) seeded(res *ExploreResult) {
	base := x.base
	owns := x.cfg.Shard.owns
	limit := x.cfg.Schedules
	var mu sync.Mutex
	failAt, done := -1, 0
	var fail *Result
	record := func(i int, r *Result) {
		mu.Lock()
		done++
		if r.Failed() && (failAt < 0 || i < failAt) {
			failAt, fail = i, r
		}
		mu.Unlock()
	}
	start := 0
	if x.cfg.Mode == PCT && base.PCTSteps <= 0 {
		// Measure k, the length of a run, on the schedule without
		// preemptions: schedule 0.
		c := base
		c.Mode = Exhaustive
		var r *Result
		if owns(0) {
			r = x.run(c)
			record(0, r)
		} else {
			r = x.extraRun(c)
		}
		base.PCTSteps = max(1, len(r.Steps))
		start = 1
	}
	config := func(i, w int) Config {
		c := base
		c.Seed, c.worker = base.Seed+uint64(i-start), w
		return c
	}
	next := start
	if start < limit && owns(start) && failAt < 0 {
		// The first seed runs alone, then again as a forced replay of its
		// own schedule: a scenario that does not repeat itself is caught
		// before the search counts anything.
		r := x.run(config(start, 0))
		record(start, r)
		if !r.Failed() {
			if bad := x.confirm(r); bad != nil {
				res.Failure, res.Schedules = bad, x.cfg.Shard.count(start+1)
				return
			}
		}
		next++
	}
	timedOut := false
	var wg sync.WaitGroup
	// work runs worker w's schedules until none is left, then ends the
	// worker; i and r, when r is not nil, are the schedule and result of
	// the run the worker's previous goroutine lost (see runHere). It
	// returns early, without ending the worker, when this goroutine loses
	// a run in turn.
	var work func(w, i int, r *Result)
	work = func(w, i int, r *Result) {
		for {
			if r != nil {
				record(i, r)
			}
			mu.Lock()
			for next < limit && !owns(next) {
				next++
			}
			i = next
			next++
			stop := i >= limit || (failAt >= 0 && i > failAt)
			mu.Unlock()
			if stop {
				wg.Done()
				return
			}
			if x.outOfTime() {
				mu.Lock()
				timedOut = true
				mu.Unlock()
				wg.Done()
				return
			}
			var ok bool
			j := i
			if r, ok = x.makeRun(config(j, w), false, func(r *Result) { work(w, j, r) }); !ok {
				return
			}
		}
	}
	wg.Add(x.cfg.Workers)
	for w := range x.cfg.Workers {
		go work(w, 0, nil)
	}
	wg.Wait()
	res.Schedules = done
	if failAt >= 0 {
		res.Failure = fail
		res.FailedAt = failAt
		if !timedOut {
			res.Schedules = x.cfg.Shard.count(failAt + 1)
		}
		return
	}
	res.FailedAt = -1
	if timedOut {
		res.Stopped = "time"
	}
}
