package scenario

import (
	"sync"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/sim"
)

// outcomes counts the endings of one exploration's passing runs and
// closes the Systems its runs built.
type outcomes struct {
	mu      sync.Mutex
	counts  map[string]int
	systems []*drvsim.System
}

// system is drvsim.NewSystem on the run's Sim.
func (o *outcomes) system(s *sim.Sim) *drvsim.System {
	sys := drvsim.NewSystem(drvsim.OnSim(s))
	o.mu.Lock()
	o.systems = append(o.systems, sys)
	o.mu.Unlock()
	return sys
}

// check counts ending e when nothing is wrong (bad empty) and returns bad.
func (o *outcomes) check(e string, bad []string) []string {
	if len(bad) > 0 {
		return bad
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[string]int{}
	}
	o.counts[e]++
	return nil
}

func (o *outcomes) endings() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]int{}
	for e, n := range o.counts {
		out[e] = n
	}
	return out
}

func (o *outcomes) close() {
	o.mu.Lock()
	systems := o.systems
	o.systems = nil
	o.mu.Unlock()
	for _, s := range systems {
		s.Close()
	}
}

// declare makes a sim.Scenario whose runs record into outcomes of their
// own; want is the bug predicted ("" for none) and endings the ways a
// passing run may end.
func declare(name, under, about string, want sim.BugKind, run func(o *outcomes) func(*sim.Sim), endings ...string) sim.Scenario {
	return sim.Scenario{
		Name:        name,
		Under:       under,
		Description: about,
		Want:        sim.Prediction{Bug: want, Endings: endings},
		Defaults:    sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 20000},
		New: func() sim.Setup {
			o := &outcomes{}
			return sim.Setup{Run: run(o), Close: o.close, Endings: o.endings}
		},
	}
}
