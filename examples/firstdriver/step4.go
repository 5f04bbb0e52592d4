package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/sim"
)

// reader is what a process holds after open: step 3's ecFile, or a rawFile.
type reader interface {
	read(cmd string) (string, error)
	close() error
}

// rawFile is the file as a driver without revocable would write it: open
// takes the EC from drvdata, and read checks that the device still has it
// before using it. A plain test never fails; under exploration, an unbind
// between the check and the use unmaps the registers under the read.
type rawFile struct{ dev *device.Device }

func (f *rawFile) read(cmd string) (string, error) {
	e, _ := f.dev.Drvdata().(*ec)
	if e == nil {
		return "", fmt.Errorf("read %s: %w", cmd, device.ErrNoDevice)
	}
	return e.xfer(cmd), nil
}

func (f *rawFile) close() error { return nil }

// readVsUnbind is the race of step 3 as a sim scenario: a process reads
// /dev/ec.0 while ec.0 is unbound. The Sim runs the two tasks one at a
// time and chooses who runs at every schedule point (the device lock,
// devres actions, the read lock, the EC's busy wait, ...), so one run is
// one interleaving, and Explore can try them all.
type readVsUnbind struct {
	raw     bool             // read through a rawFile instead of an ecFile
	systems []*drvsim.System // one per run, closed by close
}

// run sets one run up on s: build, bind and open in setup, then start the
// tasks. The checks are panics: a panic fails the run, with its schedule.
func (r *readVsUnbind) run(s *sim.Sim) {
	sys := drvsim.NewSystem(drvsim.OnSim(s))
	r.systems = append(r.systems, sys)
	b := newBoard(sys)     // the run's memory: a use-after-free fails the run
	b.busy = s.CondResched // the EC's latency is one too
	if err := sys.RegisterDriver(platform.NewDriver("ec", b.probe, nil)); err != nil {
		panic(err)
	}
	dev := sys.NewPlatformDevice("ec.0")
	if err := sys.RegisterDevice(dev); err != nil {
		panic(err)
	}
	var f reader = &rawFile{dev: dev}
	if !r.raw {
		ef, err := b.open("ec.0")
		if err != nil {
			panic(err)
		}
		f = ef
	}
	s.Go("read", func() {
		if _, err := f.read("status"); err != nil && !errors.Is(err, device.ErrNoDevice) {
			panic(err) // the EC's answer, or -ENODEV: nothing else
		}
		if err := f.close(); err != nil {
			panic(err)
		}
	})
	s.Go("unbind", func() {
		if err := sys.Unbind(dev); err != nil {
			panic(err)
		}
	})
	p := b.providers["ec.0"]
	s.AddLeakCheck("provider", func() []string { // checked when a run ends
		if !p.Released() {
			return []string{fmt.Sprintf("provider ec.0 not released (refs=%d)", p.Refs())}
		}
		return nil
	})
}

// close closes the Systems of every run.
func (r *readVsUnbind) close() {
	for _, sys := range r.systems {
		sys.Close()
	}
	r.systems = nil
}

// explore runs the scenario under cfg. The replay hints of its reports
// name the tests of race_test.go, which take DRVSIM_SEED and
// DRVSIM_SCHEDULE from the environment.
func explore(raw bool, cfg sim.ExploreConfig, test string) *sim.ExploreResult {
	sc := &readVsUnbind{raw: raw}
	defer sc.close()
	cfg.Test, cfg.Pkg = test, "./examples/firstdriver"
	return sim.Explore(cfg, sc.run)
}

// Step 4: every interleaving of the read and the unbind, for the revocable
// file, then for the raw one, which the search catches; then random
// schedules find the raw file's bug too, with a seed to replay.
func step4(w io.Writer) error {
	res := explore(false, sim.ExploreConfig{Mode: sim.Exhaustive}, "TestReadVsUnbind")
	fmt.Fprintf(w, "revocable file: %s", res)
	if res.Failed() || !res.Exhausted {
		return errors.New("the revocable file must pass every interleaving")
	}
	res = explore(true, sim.ExploreConfig{Mode: sim.Exhaustive}, "TestReadVsUnbindRawPointer")
	fmt.Fprintf(w, "raw file: %s", res)
	if !res.Failed() {
		return errors.New("the raw file must be caught")
	}
	res = explore(true, sim.ExploreConfig{Mode: sim.Random, Schedules: 100, Config: sim.Config{Seed: 1}},
		"TestReadVsUnbindRawPointerRandom")
	if !res.Failed() {
		return errors.New("random schedules must catch the raw file")
	}
	f := res.Failure
	fmt.Fprintf(w, "raw file, random schedules from seed 1: %s at seed %d (schedule %d)\nreplay: %s\n",
		f.Failure.Title, f.Seed, res.Schedules, f.ReplayHint())
	return nil
}
