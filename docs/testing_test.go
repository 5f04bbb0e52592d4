package docs_test

import (
	"fmt"
	"strings"

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
