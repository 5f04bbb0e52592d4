package docs_test

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/sim"
)

// The toy scenarios of testing.md, as the sim package's own tests define
// them (sim/memory_test.go, deadlock_test.go, fault_test.go). The call
// sites in the reports below are these copies; the replay hints name the
// sim tests, which run the same scenarios with the same seeds.

// racyDriver: the reader touches the device after a schedule point;
// nothing stops unplug from freeing it meanwhile.
func racyDriver(s *sim.Sim) {
	dev := s.Alloc("usb_dev") // simulated memory, checked like KASAN
	s.Go("reader", func() {
		s.CondResched("before read")
		dev.Access("read")
	})
	s.Go("unplug", func() { dev.Free() })
}

// abba takes two mutexes in opposite orders in two tasks.
func abba(s *sim.Sim) {
	a, b := sim.NewMutex(s, "A"), sim.NewMutex(s, "B")
	s.Go("t1", func() {
		a.Lock()
		b.Lock()
		b.Unlock()
		a.Unlock()
	})
	s.Go("t2", func() {
		b.Lock()
		a.Lock()
		a.Unlock()
		b.Unlock()
	})
}

// probeXY consults fault points "x" (twice) and "y"; its error path for y
// forgets to free the buffer it allocated.
func probeXY(s *sim.Sim) {
	s.Go("probe", func() {
		for i := 0; i < 2; i++ {
			if err := s.Fault("x"); err != nil {
				return
			}
		}
		buf := s.Alloc("buf")
		if err := s.Fault("y"); err != nil {
			return // bug: buf leaks
		}
		buf.Free()
	})
}

// testing.md: random exploration of racyDriver from seed 100, as
// TestRandomExplorationFindsUseAfterFree runs it: the failing run's report.
func testingUseAfterFree() (string, error) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 50,
		Config: sim.Config{Seed: 100, Test: "TestRandomExplorationFindsUseAfterFree", Pkg: "./sim"}}, racyDriver)
	if !res.Failed() {
		return "", fmt.Errorf("no failure: %s", res)
	}
	return res.Failure.String(), nil
}

// testing.md: exhaustive search of abba (TestDeadlockFoundByExhaustiveSearch).
func testingDeadlock() (string, error) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive,
		Config: sim.Config{Test: "TestDeadlockFoundByExhaustiveSearch", Pkg: "./sim"}}, abba)
	if !res.Failed() {
		return "", fmt.Errorf("no failure: %s", res)
	}
	return res.String(), nil
}

// testing.md: the fault sweep of probeXY (TestSweepFailsEachPointOnce),
// cut after the first failure's report.
func testingFaultSweep() (string, error) {
	sw := sim.SweepFaults(sim.Config{Test: "TestSweepFailsEachPointOnce", Pkg: "./sim"}, probeXY)
	if !sw.Failed() {
		return "", fmt.Errorf("no failure: %s", sw)
	}
	return upToRuler(sw.String()), nil
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
