package main

import (
	"errors"
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/sim"
)

// readVsUnbind is one run of the race: a process reads /dev/ec0 while the
// EC is unbound. It builds everything afresh on the run's simulator s (the
// machine, the module, the EC, the open file), then starts the two tasks.
// A check that fails panics: that fails the run, with its schedule.
func readVsUnbind(s *sim.Sim) {
	sys := drvsim.NewSystem(drvsim.OnSim(s))
	if _, err := ecInit(sys); err != nil {
		panic(err)
	}
	dev, err := plugEC(sys, "ec.0", ecFirmware, 17)
	if err != nil {
		panic(err)
	}
	f, err := chardev.Open(sys, "/dev/ec0")
	if err != nil {
		panic(err)
	}
	s.Go("read", func() {
		if _, err := f.Read(16); err != nil && !errors.Is(err, chardev.ErrNoDevice) {
			panic(err) // the temperature, or -ENODEV: nothing else
		}
		if err := f.Close(); err != nil {
			panic(err)
		}
	})
	s.Go("unbind", func() {
		if err := sys.Unbind(dev); err != nil {
			panic(err)
		}
	})
}

// TestReadVsUnbind runs readVsUnbind under every interleaving of its
// tasks: each must end without a use-after-free, a deadlock, a leak or a
// failed check. A failure's report ends with the command that replays it.
func TestReadVsUnbind(t *testing.T) {
	cfg := sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 3, Schedules: 10000, Config: sim.EnvConfig(t.Name(), 1)}
	res := sim.Explore(cfg, readVsUnbind)
	if res.Failed() || !res.Exhausted {
		t.Fatal(res)
	}
	t.Log(res)
}
