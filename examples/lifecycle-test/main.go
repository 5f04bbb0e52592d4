// Command lifecycle-test shows how to write a deterministic lifecycle test
// for your own driver: a read racing a hot-unplug, run under package sim's
// scheduler, which can try every interleaving and replay any of them.
//
// driver.go is "my driver", mysensor: a platform driver whose registers
// are reached through a revocable provider, in two variants that differ
// only in the order of two devm registrations in probe. The buggy one
// unmaps the registers before the revoke has waited for the readers.
// lifecycle_test.go holds the tests a user would write for it:
//
//	go test ./examples/lifecycle-test
//
// This program runs the same checks and explains them:
//
//  1. the schedule without preemptions, what a plain test sees: both
//     variants pass;
//  2. every interleaving of the correct driver with at most two
//     preemptions (sim.Explore, exhaustive, preemption-bounded): none
//     fails (lifecycle_test.go drops the bound and tries all 3350);
//  3. the buggy driver under random schedules: a use-after-free, reported
//     like KASAN, with the seed that replays it;
//  4. that seed, replayed: the same failure, step for step.
//
// Run it with:
//
//	go run ./examples/lifecycle-test
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/drvsim/drvsim/sim"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// The replay hint of a failure names the test that replays it: the one in
// lifecycle_test.go that explores the buggy driver from DRVSIM_SEED.
const (
	replayTest = "TestBuggyDriverIsCaught"
	replayPkg  = "./examples/lifecycle-test"
)

func run(w io.Writer) error {
	fmt.Fprintln(w, "mysensor: a process reads /dev/mysensor twice while the sensor is unplugged.")
	fmt.Fprintln(w, "Every read must return a value or -ENODEV, and nothing may touch freed memory.")

	// 1. One run, on the schedule without preemptions (Mode Exhaustive
	//    with no Replay: each task runs until it blocks or exits). The
	//    reader finishes before the unplug starts: no race, no bug.
	fmt.Fprintln(w, "\n== 1. The schedule without preemptions, what a plain test sees")
	for _, buggy := range []bool{false, true} {
		u := &unplugRace{buggy: buggy}
		res := sim.Run(sim.Config{Mode: sim.Exhaustive}, u.scenario)
		fmt.Fprintf(w, "%-15s %s", variant(buggy)+":", res)
		if res.Failed() {
			return errors.New("lifecycle-test: the plain run failed")
		}
	}

	// 2. Every interleaving of the correct driver: a depth-first search
	//    over every choice at every schedule point, bounded to two
	//    preemptions (most concurrency bugs need no more, as CHESS
	//    found); the test in lifecycle_test.go explores without a bound.
	fmt.Fprintln(w, "\n== 2. Every interleaving of the correct driver with at most 2 preemptions (sim.Explore, exhaustive)")
	good := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 10000, MaxPreemptions: 2}, (&unplugRace{}).scenario)
	fmt.Fprint(w, good)
	if good.Failed() || !good.Exhausted {
		return errors.New("lifecycle-test: the correct driver should pass every schedule")
	}

	// 3. The buggy driver, under random schedules from seed 1. The first
	//    failing run is reported as found, with its seed (NoMinimize: by
	//    default Explore reports the failing schedule with the fewest
	//    preemptions instead, replayed by schedule).
	fmt.Fprintln(w, "\n== 3. The buggy driver under random schedules from seed 1")
	cfg := sim.ExploreConfig{Mode: sim.Random, Schedules: 200, NoMinimize: true,
		Config: sim.Config{Seed: 1, Test: replayTest, Pkg: replayPkg}}
	bad := sim.Explore(cfg, (&unplugRace{buggy: true}).scenario)
	fmt.Fprint(w, bad)
	if !bad.Failed() || bad.Failure.Failure.Kind != sim.BugUseAfterFree {
		return errors.New("lifecycle-test: the buggy driver should be caught")
	}
	seed := bad.Failure.Seed
	fmt.Fprintf(w, "replay seed: %d\n", seed)

	// 4. Replay: an exploration that starts at the failing seed fails at
	//    once, on the same schedule. This is what DRVSIM_SEED=<seed> does
	//    to a test that builds its config with sim.EnvConfig.
	fmt.Fprintf(w, "\n== 4. Replaying seed %d\n", seed)
	cfg.Seed = seed
	again := sim.Explore(cfg, (&unplugRace{buggy: true}).scenario)
	if !again.Failed() {
		return fmt.Errorf("lifecycle-test: seed %d did not replay the failure", seed)
	}
	same := again.Failure.Failure.Title == bad.Failure.Failure.Title &&
		slices.Equal(again.Failure.Schedule(), bad.Failure.Schedule())
	fmt.Fprintf(w, "schedule 1: %s\n", again.Failure.Failure.Title)
	fmt.Fprintf(w, "same schedule, same failure: %t\n", same)
	if !same {
		return errors.New("lifecycle-test: the replay differs")
	}
	return nil
}

func variant(buggy bool) string {
	if buggy {
		return "buggy driver"
	}
	return "correct driver"
}
