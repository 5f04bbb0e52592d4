package main

import (
	"fmt"
	"testing"

	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every registered scenario gives the same outcome serially, on several
// workers, and in shards merged: the schedule count, exhaustion, first
// failure and reported schedule.
func TestExploreParallelAndShardsAgreeOnEveryScenario(t *testing.T) {
	for _, sc := range scenarios.All() {
		for _, mode := range []sim.Mode{sim.Exhaustive, sim.Random} {
			t.Run(sc.Name+"/"+mode.String(), func(t *testing.T) {
				cfg := sim.ExploreConfig{Mode: mode, Schedules: 400, MaxPreemptions: sc.Defaults.MaxPreemptions, Config: sim.Config{Seed: 3}}
				explore := func(cfg sim.ExploreConfig) *sim.ExploreResult { return sc.Explore(cfg).ExploreResult }
				serial := explore(cfg)
				want := describe(serial.Schedules, serial.Exhausted, serial.Failure, serial.Reported())

				cfg.Workers = 3
				par := explore(cfg)
				assert.Equal(t, want, describe(par.Schedules, par.Exhausted, par.Failure, par.Reported()), "3 workers")

				var sums []*sim.Summary
				for k := 1; k <= 3; k++ {
					c := cfg
					c.Shard = sim.Shard{K: k, N: 3}
					sums = append(sums, explore(c).Summary(c))
				}
				m, err := sim.MergeSummaries(sums)
				require.NoError(t, err)
				got := fmt.Sprintf("%d schedules, exhausted %v", m.Schedules, m.Exhausted)
				if m.Failure != nil {
					got += fmt.Sprintf(", %s @ %s, reported @ %s", m.Failure.Title, m.Failure.Schedule, m.Minimal.Schedule)
				}
				assert.Equal(t, want, got, "3 shards")
			})
		}
	}
}

func describe(n int, exhausted bool, first, reported *sim.Result) string {
	s := fmt.Sprintf("%d schedules, exhausted %v", n, exhausted)
	if first != nil {
		s += fmt.Sprintf(", %s @ %s, reported @ %s", first.Failure.Title, sim.FormatSchedule(first.Schedule()), sim.FormatSchedule(reported.Schedule()))
	}
	return s
}
