package sim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Shard names one of N pieces of an exploration, K from 1 to N: N
// processes (a CI matrix, Kubernetes indexed Jobs, GNU parallel), each
// running Explore with the same configuration and its own Shard, together
// run the exploration exactly once, and MergeSummaries combines their
// summaries into the result one process would have given.
//
// A random or PCT exploration is split by schedule: shard K runs schedules
// K-1, K-1+N, K-1+2N, ... An exhaustive one is split by schedule prefix:
// every shard runs the same first few schedules to cut the search tree
// into subtrees (the same cut in every shard, the search being
// deterministic), sorts them in the order the serial search visits them,
// and explores every N-th. The shards' schedule counts add up to the
// serial count.
type Shard struct {
	K, N int
}

// ErrBadShard is wrapped by the errors of ParseShard and of an Explore
// given an impossible shard.
var ErrBadShard = errors.New("bad shard")

// ParseShard parses "K/N" (1 <= K <= N).
func ParseShard(text string) (Shard, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(text), "/")
	sh := Shard{}
	var err1, err2 error
	sh.K, err1 = strconv.Atoi(k)
	sh.N, err2 = strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("%w %q: want K/N, e.g. 2/4", ErrBadShard, text)
	}
	if err := sh.check(); err != nil {
		return Shard{}, err
	}
	return sh, nil
}

// maxShards bounds N.
const maxShards = 1 << 16

func (s Shard) check() error {
	if s.N < 1 || s.N > maxShards || s.K < 1 || s.K > s.N {
		return fmt.Errorf("%w %d/%d: want 1 <= K <= N <= %d", ErrBadShard, s.K, s.N, maxShards)
	}
	return nil
}

// String renders the shard as "K/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

// owns reports whether schedule (or unit) i belongs to the shard.
func (s Shard) owns(i int) bool { return s.N <= 1 || i%s.N == s.K-1 }

// count returns how many of the first n schedules belong to the shard.
func (s Shard) count(n int) int {
	if s.N <= 1 {
		return n
	}
	c := n / s.N
	if n%s.N >= s.K {
		c++
	}
	return c
}

// unitsPerShard is how many subtrees per shard the exhaustive split aims
// for, so that subtrees of very different sizes even out.
const unitsPerShard = 32

// shardUnits cuts the exhaustive search into subtrees, the same way in
// every shard: it repeatedly runs the first schedule of the shallowest
// subtree not yet cut, which splits it into that one schedule and the
// subtrees of its untried alternatives. It returns this shard's units.
func (x *explorer) shardUnits(bound int) []*unit {
	want := unitsPerShard * x.cfg.Shard.N
	all := []*unit{{prefix: []int{}}}
	for len(all) < want {
		var u *unit
		for _, v := range all {
			if !v.single && (u == nil || len(v.prefix) < len(u.prefix) || len(v.prefix) == len(u.prefix) && prefixLess(v.prefix, u.prefix)) {
				u = v
			}
		}
		if u == nil {
			break
		}
		c := x.base
		c.Mode, c.prefix, c.ref, c.pool = Exhaustive, u.prefix, u.ref, &x.pools[0]
		r := Run(c, x.scenario)
		u.single, u.first = true, r
		if r.Failed() {
			continue
		}
		for d := len(u.prefix); d < len(r.Steps); d++ {
			st := r.Steps[d]
			if st.Next == "" || st.alt+1 >= st.Runnable {
				continue
			}
			if bound >= 0 && st.curRunnable && st.pre+1 > bound {
				x.mu.Lock()
				x.pruned = true
				x.mu.Unlock()
				continue
			}
			alts := make([]int, d)
			for j := range d {
				alts[j] = r.Steps[j].alt
			}
			ref := newReference(r, d+1)
			for a := st.alt + 1; a < st.Runnable; a++ {
				all = append(all, &unit{prefix: append(slices.Clone(alts), a), ref: ref})
			}
		}
	}
	slices.SortFunc(all, func(a, b *unit) int { return slices.Compare(a.prefix, b.prefix) })
	var mine []*unit
	for i, u := range all {
		if x.cfg.Shard.owns(i) {
			if u.first != nil {
				x.adopt(u.first)
			}
			mine = append(mine, u)
		} else if u.first != nil {
			x.mu.Lock()
			x.extra++
			x.mu.Unlock()
		}
	}
	return mine
}

// adopt accounts for a run of the search made before the search started
// (a shard's split).
func (x *explorer) adopt(r *Result) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.runs++
	x.see(r.hash)
	x.deepest = max(x.deepest, len(r.Steps))
	x.maxPre = max(x.maxPre, r.Preemptions)
}

// UnitResult is one piece of an exhaustive exploration, as a shard's
// summary holds it: the subtree of the choices Prefix, how many of its
// schedules ran, whether all did, and the failure that ended it.
type UnitResult struct {
	Prefix    []int           `json:"prefix"`
	Schedules int             `json:"schedules"`
	Complete  bool            `json:"complete"`
	Failure   *FailureSummary `json:"failure,omitempty"`
}

// FailureSummary is a failing run as a summary holds it: enough to print
// the verdict and replay it.
type FailureSummary struct {
	Kind        BugKind `json:"kind"`
	Title       string  `json:"title"`
	Seed        uint64  `json:"seed"`
	Schedule    string  `json:"schedule"`
	Preemptions int     `json:"preemptions"`
}

func failureOf(r *Result) *FailureSummary {
	if r == nil || !r.Failed() {
		return nil
	}
	return &FailureSummary{Kind: r.Failure.Kind, Title: r.Failure.Title, Seed: r.Seed,
		Schedule: FormatSchedule(r.Schedule()), Preemptions: r.Preemptions}
}

func (u *unit) summary() UnitResult {
	return UnitResult{Prefix: u.prefix, Schedules: u.count, Complete: u.complete, Failure: failureOf(u.fail)}
}

// Summary is what one shard's exploration tells the merge step
// (MergeSummaries); it is written as JSON.
type Summary struct {
	// The exploration's configuration: every shard must have the same.
	Mode           string `json:"mode"`
	Seed           uint64 `json:"seed"`
	Limit          int    `json:"limit"`
	MaxPreemptions int    `json:"max_preemptions"`
	Shard          Shard  `json:"shard"`
	// Units are the shard's pieces of an exhaustive exploration.
	Units []UnitResult `json:"units,omitempty"`
	// Schedules is the number of schedules the shard ran; FailedAt the
	// index of a random or PCT exploration's first failing schedule (-1:
	// none) and Failure that schedule.
	Schedules int             `json:"schedules"`
	FailedAt  int             `json:"failed_at"`
	Failure   *FailureSummary `json:"failure,omitempty"`
	// Untrusted is a failure that makes the shard's search untrustworthy
	// (nondeterminism), nil otherwise.
	Untrusted *FailureSummary `json:"untrusted,omitempty"`
	// Minimal is the shard's minimal failing schedule, if it found a bug.
	Minimal *FailureSummary `json:"minimal,omitempty"`
	// Coverage is the shard's.
	Coverage Coverage `json:"coverage"`
	// TimedOut is true when the Time budget stopped the shard.
	TimedOut bool `json:"timed_out,omitempty"`
}

// Summary returns the result as a shard's summary, for MergeSummaries.
func (r *ExploreResult) Summary(cfg ExploreConfig) *Summary {
	s := &Summary{Mode: r.Mode.String(), Seed: cfg.Seed, Limit: cfg.Schedules, MaxPreemptions: cfg.MaxPreemptions,
		Shard: r.Shard, Units: r.Units, Coverage: r.Coverage, TimedOut: r.Stopped == "time",
		Schedules: r.Schedules, FailedAt: r.FailedAt, Failure: failureOf(r.Failure)}
	if s.Limit <= 0 {
		s.Limit = 1000
	}
	if s.Shard.N == 0 {
		s.Shard = Shard{K: 1, N: 1}
	}
	if r.Failure != nil && harness(r.Failure.Failure.Kind) {
		s.Untrusted = failureOf(r.Failure)
	}
	if r.Minimal != nil {
		s.Minimal = failureOf(r.Minimal)
	}
	return s
}

// Merged is the result of merging the summaries of every shard of an
// exploration: the serial exploration's count, first failure and verdict.
type Merged struct {
	Mode      string
	Shards    int
	Schedules int
	Exhausted bool
	// Failure is the first failure in the serial order; Minimal its
	// minimal schedule (from the shard that found it).
	Failure, Minimal *FailureSummary
	// Untrusted is set when a shard's search could not be trusted.
	Untrusted *FailureSummary
	// Stopped is "schedules" or "time" as in ExploreResult.
	Stopped string
	// Runs, DistinctTraces, Deepest, MostPreempted and BoundReached
	// combine the shards' coverage (DistinctTraces is summed: shards of a
	// random search may have run the same interleaving).
	Runs, DistinctTraces, Deepest, MostPreempted int
	BoundReached                                 bool
}

// MergeSummaries combines the summaries of the N shards of one
// exploration, in any order. They must agree on the configuration and
// cover shards 1 to N once each.
func MergeSummaries(sums []*Summary) (*Merged, error) {
	if len(sums) == 0 {
		return nil, fmt.Errorf("%w: no summaries", ErrBadShard)
	}
	first := sums[0]
	n := first.Shard.N
	seen := make([]bool, n+1)
	m := &Merged{Mode: first.Mode, Shards: n}
	var units []UnitResult
	failAt, done := -1, 0
	var fail *FailureSummary
	for _, s := range sums {
		if s.Mode != first.Mode || s.Seed != first.Seed || s.Limit != first.Limit || s.MaxPreemptions != first.MaxPreemptions || s.Shard.N != n {
			return nil, fmt.Errorf("%w: shard %s was run with another configuration (mode %s, seed %d, schedules %d, preemptions %d, of %d shards) than shard %s",
				ErrBadShard, s.Shard, s.Mode, s.Seed, s.Limit, s.MaxPreemptions, s.Shard.N, first.Shard)
		}
		if s.Shard.check() != nil || seen[s.Shard.K] {
			return nil, fmt.Errorf("%w: shard %s given twice or out of range", ErrBadShard, s.Shard)
		}
		seen[s.Shard.K] = true
		units = append(units, s.Units...)
		if s.Untrusted != nil && m.Untrusted == nil {
			m.Untrusted = s.Untrusted
		}
		if s.TimedOut {
			m.Stopped = "time"
		}
		m.Runs += s.Coverage.Runs
		m.Deepest = max(m.Deepest, s.Coverage.Deepest)
		m.MostPreempted = max(m.MostPreempted, s.Coverage.MostPreempted)
		m.BoundReached = m.BoundReached || s.Coverage.BoundReached
		m.DistinctTraces += s.Coverage.DistinctTraces
		done += s.Schedules
		if s.FailedAt >= 0 && s.Failure != nil && (failAt < 0 || s.FailedAt < failAt) {
			failAt, fail = s.FailedAt, s.Failure
		}
	}
	for k := 1; k <= n; k++ {
		if !seen[k] {
			return nil, fmt.Errorf("%w: shard %d/%d missing", ErrBadShard, k, n)
		}
	}
	minimal := func(title string) *FailureSummary {
		for _, s := range sums {
			if s.Minimal != nil && s.Minimal.Title == title {
				return s.Minimal
			}
		}
		return nil
	}
	if first.Mode != Exhaustive.String() {
		// Schedule i ran in shard i%N+1; every shard ran its schedules in
		// order up to its first failure, so all those before the first
		// failure of all ran.
		switch {
		case failAt >= 0:
			m.Schedules, m.Failure, m.Minimal = failAt+1, fail, minimal(fail.Title)
			if m.Stopped == "time" {
				m.Schedules = done
			}
		default:
			m.Schedules = done
			if m.Stopped == "" {
				m.Stopped = "schedules"
			}
		}
		return m, nil
	}
	slices.SortFunc(units, func(a, b UnitResult) int { return slices.Compare(a.Prefix, b.Prefix) })
	total, complete := 0, true
	for i, u := range units {
		left := first.Limit - total
		if u.Failure != nil && u.Schedules <= left {
			m.Schedules, m.Failure, m.Minimal = total+u.Schedules, u.Failure, minimal(u.Failure.Title)
			return m, nil
		}
		if u.Schedules >= left {
			m.Schedules = first.Limit
			m.Exhausted = first.Mode == Exhaustive.String() && complete && u.Complete && u.Schedules == left && i == len(units)-1
			if !m.Exhausted && m.Stopped == "" {
				m.Stopped = "schedules"
			}
			return m, nil
		}
		total += u.Schedules
		complete = complete && u.Complete
	}
	m.Schedules = total
	m.Exhausted = first.Mode == Exhaustive.String() && complete && m.Stopped == ""
	if !m.Exhausted && m.Stopped == "" {
		m.Stopped = "schedules"
	}
	return m, nil
}

// String renders the merged verdict like ExploreResult.String's first
// line, then the failure's replay schedule.
func (m *Merged) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "explore (%s): %d schedules in %d shards", m.Mode, m.Schedules, m.Shards)
	switch {
	case m.Untrusted != nil:
		fmt.Fprintf(&b, ", stopped: %s\n", m.Untrusted.Title)
		return b.String()
	case m.Exhausted:
		b.WriteString(", space exhausted")
	}
	if m.Failure == nil {
		if m.Stopped == "time" {
			b.WriteString(", time budget spent")
		}
		b.WriteString(", no failure\n")
	} else {
		fmt.Fprintf(&b, ", failure found in schedule %d: %s\n", m.Schedules, m.Failure.Title)
		r := m.Failure
		if m.Minimal != nil {
			r = m.Minimal
		}
		fmt.Fprintf(&b, "schedule (%d preemptions): %s\n", r.Preemptions, r.Schedule)
	}
	fmt.Fprintf(&b, "coverage: %d runs, %d distinct traces, deepest %d steps, at most %d preemptions\n",
		m.Runs, m.DistinctTraces, m.Deepest, m.MostPreempted)
	return b.String()
}
