package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
)

// runExplore is `drvsim explore`: one design-lab scenario under the
// explorer. The run fails (status 1) when the outcome differs from what the
// scenario predicts: a bug where none is expected, or none where one is.
func runExplore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "first seed (random and pct modes)")
	mode := fs.String("mode", "exhaustive", "random, pct or exhaustive")
	n := fs.Int("schedules", 20000, "bound on the number of schedules")
	preempt := fs.Int("preemptions", 0, "preemption bound in exhaustive mode (0: none)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: drvsim explore [flags] SCENARIO\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nscenarios:")
		for _, s := range kernelmodel.Scenarios() {
			fmt.Fprintf(stderr, "  %-24s %s\n", s.Name, s.Description)
		}
	}
	if err := fs.Parse(args); err != nil {
		return usageStatus(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	sc, ok := kernelmodel.Lookup(fs.Arg(0))
	if !ok {
		fmt.Fprintf(stderr, "drvsim: no scenario %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	var m sim.Mode
	switch *mode {
	case "random":
		m = sim.Random
	case "pct":
		m = sim.PCT
	case "exhaustive":
		m = sim.Exhaustive
	default:
		fmt.Fprintf(stderr, "drvsim: unknown mode %q (random, pct, exhaustive)\n", *mode)
		return 2
	}
	res := sim.Explore(sim.ExploreConfig{
		Config:         sim.Config{Seed: *seed},
		Mode:           m,
		Schedules:      *n,
		MaxPreemptions: *preempt,
	}, sc.Run)
	fmt.Fprintf(stdout, "== %s (%s design): %s\n", sc.Name, sc.Design, sc.Description)
	fmt.Fprintln(stdout, res)
	var found sim.BugKind
	if res.Failed() {
		found = res.Failure.Failure.Kind
	}
	if found != sc.Want {
		fmt.Fprintf(stderr, "drvsim: %s: expected %q, found %q\n", sc.Name, sc.Want, found)
		return 1
	}
	if found != "" {
		fmt.Fprintf(stdout, "as predicted: the %s design has a %s\n", sc.Design, found)
	} else {
		fmt.Fprintf(stdout, "as predicted: no schedule fails\n")
	}
	return 0
}
