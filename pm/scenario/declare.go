package scenario

import (
	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/sim"
)

// declare makes a sim.Scenario whose runs record into a drvsim.Runs of their
// own; want is the bug predicted ("" for none) and endings the ways a
// passing run may end.
func declare(name, under, about string, want sim.BugKind, run func(o *drvsim.Runs) func(*sim.Sim), endings ...string) sim.Scenario {
	return sim.Scenario{
		Name:        name,
		Under:       under,
		Description: about,
		Want:        sim.Prediction{Bug: want, Endings: endings},
		Defaults:    sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 20000},
		New: func() sim.Setup {
			o := &drvsim.Runs{}
			return sim.Setup{Run: run(o), Close: o.Close, Endings: o.Endings}
		},
	}
}
