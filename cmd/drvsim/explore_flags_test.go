package main

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/sim"
)

// Explore flags out of bounds, or that the exploration would ignore, are
// bad usage (status 2, one line), not a silent default: -schedules 0 used
// to run 1000 schedules, -preemptions -1 an unbounded search, and -seed
// was ignored by an exhaustive one.
func TestExploreFlagsValidated(t *testing.T) {
	const sc = "usb-skel-revocable" // exhaustive by default
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-schedules", "0", sc}, "-schedules 0: want at least 1"},
		{[]string{"-schedules", "-1", sc}, "-schedules -1: want at least 1"},
		{[]string{"-mode", "random", "-schedules", "0", sc}, "-schedules 0: want at least 1"},
		{[]string{"-preemptions", "-1", sc}, "-preemptions -1: want 0 (no bound) or more"},
		{[]string{"-mode", "random", "-preemptions", "2", sc}, "-preemptions bounds an exhaustive search; the random mode does not use it (add -mode exhaustive)"},
		{[]string{"-seed", "7", sc}, "-seed seeds the random and pct modes; an exhaustive search tries schedules in a fixed order and has none (add -mode random or -mode pct)"},
		{[]string{"-mode", "exhaustive", "-seed", "7", sc}, "-seed seeds the random and pct modes; an exhaustive search tries schedules in a fixed order and has none (add -mode random or -mode pct)"},
		{[]string{"-schedule", "a,b", "-seed", "2", "-schedules", "3", sc}, "-schedule replays one schedule: -seed, -schedules would have no effect"},
		{[]string{"-workers", "-1", sc}, "-workers -1: want 0 (one per CPU) to 1024"},
		{[]string{"-workers", "1000000000", sc}, "-workers 1000000000: want 0 (one per CPU) to 1024"},
		{[]string{"-time", "-1s", sc}, "-time -1s: want a positive duration, or 0 for no limit"},
	} {
		rc, out, errs := runCLI(append([]string{"explore"}, c.args...)...)
		assert.Equal(t, 2, rc, "%v", c.args)
		assert.Empty(t, out, "%v", c.args)
		assert.Equal(t, "drvsim explore: "+c.msg+" (see drvsim help explore)\n", errs, "%v", c.args)
	}
}

// The combinations that mean something pass.
func TestExploreFlagsAccepted(t *testing.T) {
	for _, c := range []struct {
		args []string
		mode sim.Mode
	}{
		{nil, sim.Exhaustive},
		{[]string{"-schedules", "1", "-preemptions", "0"}, sim.Exhaustive},
		{[]string{"-mode", "random", "-seed", "3", "-schedules", "5"}, sim.Random},
		{[]string{"-mode", "pct", "-seed", "3"}, sim.PCT},
		{[]string{"-schedule", "a,b"}, sim.Exhaustive},
		{[]string{"-workers", "0"}, sim.Exhaustive},
		{[]string{"-workers", "4", "-mode", "random"}, sim.Random},
	} {
		fs := flag.NewFlagSet("explore", flag.ContinueOnError)
		fs.Uint64("seed", 1, "")
		fs.String("mode", "", "")
		n := fs.Int("schedules", 0, "")
		p := fs.Int("preemptions", 0, "")
		fs.String("schedule", "", "")
		w := fs.Int("workers", 0, "")
		require.NoError(t, fs.Parse(c.args))
		cfg := sim.ExploreConfig{Mode: c.mode, Schedules: 20000}
		if flagSet(fs, "schedules") {
			cfg.Schedules = *n
		}
		cfg.MaxPreemptions = *p
		cfg.Workers = *w
		assert.NoError(t, validateExploreFlags(fs, cfg), "%v", c.args)
	}
}
