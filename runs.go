package drvsim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/drvsim/drvsim/sim"
)

// Runs is what the runs of one exploration of a scenario share: the
// Systems they build (one per run, on the run's Sim), closed together by
// Close, and how many passing runs ended each way, for sim.Setup.Endings.
// A scenario's Setup makes one Runs and gives its Run, Close and Endings
// to the explorer:
//
//	r := &drvsim.Runs{}
//	return sim.Setup{Run: run(r), Close: r.Close, Endings: r.Endings}
//
// The zero value is ready to use; it is safe for concurrent use by the
// runs of parallel workers.
type Runs struct {
	mu      sync.Mutex
	counts  map[string]int
	systems map[*System]bool // built and not closed yet
}

// System is NewSystem(OnSim(s), opts...), recorded so that Close closes it
// unless Release did first.
func (r *Runs) System(s *sim.Sim, opts ...Option) *System {
	sys := NewSystem(append([]Option{OnSim(s)}, opts...)...)
	r.mu.Lock()
	if r.systems == nil {
		r.systems = map[*System]bool{}
	}
	r.systems[sys] = true
	r.mu.Unlock()
	return sys
}

// Release closes sys, a System r built, once its run's end-of-run check
// has looked at it. A nil sys is ignored.
func (r *Runs) Release(sys *System) {
	if sys == nil {
		return
	}
	r.mu.Lock()
	delete(r.systems, sys)
	r.mu.Unlock()
	sys.Close()
}

// End is the last step of an end-of-run check: when bad is empty (the run
// ended consistently) it counts the run's ending; it returns bad, the
// check's findings.
func (r *Runs) End(ending string, bad []string) []string {
	if len(bad) > 0 {
		return bad
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	r.counts[ending]++
	return nil
}

// Count returns how many passing runs ended with ending.
func (r *Runs) Count(ending string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[ending]
}

// Endings returns how many passing runs ended each way (a copy).
func (r *Runs) Endings() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := maps.Clone(r.counts)
	if out == nil {
		out = map[string]int{}
	}
	return out
}

// String lists the endings seen with their counts, in the order of their
// text: `"not probed: driver gone": 3, "probed, then detached": 5`.
func (r *Runs) String() string {
	counts := r.Endings()
	keys := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%q: %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

// Open returns how many of the Systems the runs built are not closed yet.
func (r *Runs) Open() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.systems)
}

// Close closes every System the runs built that is not closed yet. The
// counts stay readable, and r may be used again; Close is idempotent.
func (r *Runs) Close() {
	r.mu.Lock()
	systems := r.systems
	r.systems = nil
	r.mu.Unlock()
	for sys := range systems {
		sys.Close()
	}
}
