package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/sim"
)

// validateExploreFlags checks the flags given to `drvsim explore` (fs,
// parsed) against their bounds and against the exploration they would
// configure (cfg, the scenario's defaults with the flags applied), so
// that no flag is silently ignored or read as something else:
//
//   - -schedules must be at least 1 (sim.Explore would read 0 or less as
//     its default, 1000);
//   - -preemptions must be 0 (no bound) or more (sim reads a negative
//     bound as none), and bounds only an exhaustive search;
//   - -seed seeds random and PCT runs only: an exhaustive search tries
//     the schedules in a fixed order and has no seed;
//   - -schedule replays one schedule: -mode, -seed, -schedules and
//     -preemptions have nothing to act on;
//   - -workers is 0 (one per CPU) to sim.MaxWorkers (sim reads a
//     negative count as one per CPU);
//   - -time is 0 (no limit) or more.
//
// It returns the first problem, nil when the flags make sense.
func validateExploreFlags(fs *flag.FlagSet, cfg sim.ExploreConfig) error {
	switch {
	case flagSet(fs, "workers") && (cfg.Workers < 0 || cfg.Workers > sim.MaxWorkers):
		return fmt.Errorf("-workers %d: want 0 (one per CPU) to %d", cfg.Workers, sim.MaxWorkers)
	case flagSet(fs, "time") && cfg.Time < 0:
		return fmt.Errorf("-time %v: want a positive duration, or 0 for no limit", cfg.Time)
	}
	given := func(name string) bool { return flagSet(fs, name) }
	if given("schedule") {
		var with []string
		for _, f := range []string{"mode", "seed", "schedules", "preemptions"} {
			if given(f) {
				with = append(with, "-"+f)
			}
		}
		if len(with) > 0 {
			return fmt.Errorf("-schedule replays one schedule: %s would have no effect", strings.Join(with, ", "))
		}
		return nil
	}
	switch {
	case given("schedules") && cfg.Schedules < 1:
		return fmt.Errorf("-schedules %d: want at least 1", cfg.Schedules)
	case given("preemptions") && cfg.MaxPreemptions < 0:
		return fmt.Errorf("-preemptions %d: want 0 (no bound) or more", cfg.MaxPreemptions)
	case given("preemptions") && cfg.Mode != sim.Exhaustive:
		return fmt.Errorf("-preemptions bounds an exhaustive search; the %s mode does not use it (add -mode exhaustive)", cfg.Mode)
	case given("seed") && cfg.Mode == sim.Exhaustive:
		return fmt.Errorf("-seed seeds the random and pct modes; an exhaustive search tries schedules in a fixed order and has none (add -mode random or -mode pct)")
	}
	return nil
}
