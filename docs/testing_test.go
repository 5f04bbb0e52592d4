package docs_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
)

// testing.md: random exploration of toy.RacyDriver from seed 100, as
// TestRandomExplorationFindsUseAfterFree runs it: the failing run's report.
func testingUseAfterFree() (string, error) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 50,
		Config: sim.Config{Seed: 100, Test: "TestRandomExplorationFindsUseAfterFree", Pkg: "./sim"}}, toy.RacyDriver)
	if !res.Failed() {
		return "", fmt.Errorf("no failure: %s", res)
	}
	return res.Failure.String(), nil
}

// testing.md: exhaustive search of toy.ABBA (TestDeadlockFoundByExhaustiveSearch).
func testingDeadlock() (string, error) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive,
		Config: sim.Config{Test: "TestDeadlockFoundByExhaustiveSearch", Pkg: "./sim"}}, toy.ABBA)
	if !res.Failed() {
		return "", fmt.Errorf("no failure: %s", res)
	}
	return res.String(), nil
}

// testing.md: the fault sweep of toy.ProbeXY (TestSweepFailsEachPointOnce),
// cut after the first failure's report.
func testingFaultSweep() (string, error) {
	sw := sim.SweepFaults(sim.Config{Test: "TestSweepFailsEachPointOnce", Pkg: "./sim"}, toy.ProbeXY(nil))
	if !sw.Failed() {
		return "", fmt.Errorf("no failure: %s", sw)
	}
	return upToRuler(sw.String()), nil
}

// testing.md: the fault sweep of the tutorial's driver
// (examples/firstdriver's TestProbeFaultSweep), as the example's tests
// keep it in testdata/race.golden.
func testingECFaultSweep() (string, error) {
	return tutorialRace().section("TestProbeFaultSweep").text()
}

// testing.md: the replay hints of the two reports above.
func testingReplaySeed() (string, error) {
	return replayLine(testingUseAfterFree())
}

func testingReplaySchedule() (string, error) {
	return replayLine(testingDeadlock())
}

// replayLine returns the "replay: ..." line of a report.
func replayLine(report string, err error) (string, error) {
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, "replay: ") {
			return l + "\n", nil
		}
	}
	return "", fmt.Errorf("no replay line in:\n%s", report)
}

// upToRuler returns text up to and including the second ruler line (the
// end of the report block), then a "..." line.
func upToRuler(text string) string {
	var b strings.Builder
	rulers := 0
	for _, l := range strings.SplitAfter(text, "\n") {
		b.WriteString(l)
		if strings.HasPrefix(l, "=====") {
			rulers++
			if rulers == 2 {
				b.WriteString("...\n")
				break
			}
		}
	}
	return b.String()
}

// testing.md, "Minimal failing schedules": a random failure of
// toy.CheckThenUse with needless preemptions, reported with one.
func testingMinimal() (string, error) {
	for seed := uint64(0); seed < 100; seed++ {
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 1,
			Config: sim.Config{Seed: seed, Pkg: "./sim"}}, toy.CheckThenUse)
		if res.Failed() && res.Failure.Preemptions > 2 {
			return upToRuler(res.String()), nil
		}
	}
	return "", fmt.Errorf("no random failure with more than 2 preemptions")
}

// testing.md, "When the scenario does not repeat itself".
func testingNondeterminism() (string, error) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, toy.StateKeptBetweenRuns())
	if res.Trusted() {
		return "", fmt.Errorf("not caught: %s", res)
	}
	return upToRuler(res.String()), nil
}

// testing.md, "Stuck tasks": toy.WaitsOnGoChannel under a 100ms watchdog.
func testingStuck() (string, error) {
	ch := make(chan struct{})
	defer close(ch)
	r := sim.Run(sim.Config{Watchdog: 100 * time.Millisecond, Replay: []string{"reader", "reader"}}, toy.WaitsOnGoChannel(ch))
	if !r.Failed() {
		return "", fmt.Errorf("not stuck: %s", r)
	}
	return r.Failure.String(), nil
}

// testing.md, "Every core, and beyond one machine": the design lab's
// drvsim-shared-handle in three shards, then merged.
func testingShards() (string, error) {
	sc, ok := scenarios.Lookup("drvsim-shared-handle")
	if !ok {
		return "", fmt.Errorf("no drvsim-shared-handle")
	}
	var b strings.Builder
	var sums []*sim.Summary
	for k := 1; k <= 3; k++ {
		cfg := sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000, Shard: sim.Shard{K: k, N: 3}}
		res := sc.Explore(cfg)
		b.WriteString(res.String())
		sums = append(sums, res.Summary(cfg))
	}
	m, err := sim.MergeSummaries(sums)
	if err != nil {
		return "", err
	}
	serial := sc.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000})
	if serial.Schedules != m.Schedules || !m.Exhausted {
		return "", fmt.Errorf("merged %d schedules, serial %d", m.Schedules, serial.Schedules)
	}
	b.WriteString("merged: " + m.String())
	return b.String(), nil
}

// testing.md, "Leak checks": a file's consumer never closed after the
// device went away.
func testingLeak() (string, error) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		sys := drvsim.NewSystem(drvsim.OnSim(s))
		s.Cleanup(sys.Close)
		var p *revocable.Provider[env.Object]
		drv := platform.NewDriver("ec", func(dev *device.Device) error {
			regs := s.Alloc("ec_regs")
			if _, err := dev.Devres().Add("ec_regs_free", regs.Free); err != nil {
				return err
			}
			var err error
			p, err = revocable.DevmProvider(dev, regs, revocable.WithName("ec"))
			return err
		}, nil)
		dev := sys.NewPlatformDevice("ec.0")
		if sys.RegisterDriver(drv) != nil || sys.RegisterDevice(dev) != nil {
			panic("setup")
		}
		file, err := revocable.New(p) // open(); the test forgets release()
		if err != nil {
			panic(err)
		}
		s.Go("reader", func() {
			regs, a := file.TryAccess()
			if regs != nil {
				regs.Access("read")
			}
			a.Release()
		})
		s.Go("unplug", func() {
			if err := sys.UnregisterDevice(dev); err != nil {
				panic(err)
			}
		})
	})
	if !res.Failed() {
		return "", fmt.Errorf("no leak: %s", res)
	}
	return res.Reported().Failure.String(), nil
}
