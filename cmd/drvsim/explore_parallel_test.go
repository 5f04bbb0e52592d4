package main

import (
	"fmt"
	"testing"

	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
)

// Every registered scenario gives the same outcome serially, on several
// workers, and in shards merged: the schedule count, exhaustion, first
// failure and reported schedule. The searches are capped (a capped search
// must agree too: the cap is counted in the serial order) so that the
// sweep stays a test; BenchmarkFullExploreAgreement runs it with each
// scenario's own budget.
func TestExploreParallelAndShardsAgreeOnEveryScenario(t *testing.T) {
	for _, sc := range scenarios.All() {
		for _, mode := range []sim.Mode{sim.Exhaustive, sim.Random} {
			t.Run(sc.Name+"/"+mode.String(), func(t *testing.T) {
				schedules := map[sim.Mode]int{sim.Exhaustive: 150, sim.Random: 80}[mode]
				if err := checkAgreement(sc, mode, schedules); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// BenchmarkFullExploreAgreement is the agreement sweep with each
// scenario's default budget (20,000 schedules for most):
//
//	go test -run '^$' -bench FullExploreAgreement -benchtime 1x ./cmd/drvsim
func BenchmarkFullExploreAgreement(b *testing.B) {
	for b.Loop() {
		for _, sc := range scenarios.All() {
			for _, mode := range []sim.Mode{sim.Exhaustive, sim.Random} {
				if err := checkAgreement(sc, mode, sc.Defaults.Schedules); err != nil {
					b.Error(err)
				}
			}
		}
	}
}

// checkAgreement explores sc in mode within schedules serially, on 3
// workers and in 3 shards merged, and says where they differ.
func checkAgreement(sc sim.Scenario, mode sim.Mode, schedules int) error {
	cfg := sim.ExploreConfig{Mode: mode, Schedules: schedules, MaxPreemptions: sc.Defaults.MaxPreemptions, Config: sim.Config{Seed: 3}}
	explore := func(cfg sim.ExploreConfig) *sim.ExploreResult { return sc.Explore(cfg).ExploreResult }
	serial := explore(cfg)
	want := describe(serial.Schedules, serial.Exhausted, serial.Failure, serial.Reported())

	cfg.Workers = 3
	par := explore(cfg)
	if got := describe(par.Schedules, par.Exhausted, par.Failure, par.Reported()); got != want {
		return fmt.Errorf("%s/%s: 3 workers: %s, serially: %s", sc.Name, mode, got, want)
	}

	var sums []*sim.Summary
	for k := 1; k <= 3; k++ {
		c := cfg
		c.Shard = sim.Shard{K: k, N: 3}
		sums = append(sums, explore(c).Summary(c))
	}
	m, err := sim.MergeSummaries(sums)
	if err != nil {
		return fmt.Errorf("%s/%s: merging 3 shards: %w", sc.Name, mode, err)
	}
	got := fmt.Sprintf("%d schedules, exhausted %v", m.Schedules, m.Exhausted)
	if m.Failure != nil {
		got += fmt.Sprintf(", %s @ %s, reported @ %s", m.Failure.Title, m.Failure.Schedule, m.Minimal.Schedule)
	}
	if got != want {
		return fmt.Errorf("%s/%s: 3 shards: %s, serially: %s", sc.Name, mode, got, want)
	}
	return nil
}

func describe(n int, exhausted bool, first, reported *sim.Result) string {
	s := fmt.Sprintf("%d schedules, exhausted %v", n, exhausted)
	if first != nil {
		s += fmt.Sprintf(", %s @ %s, reported @ %s", first.Failure.Title, sim.FormatSchedule(first.Schedule()), sim.FormatSchedule(reported.Schedule()))
	}
	return s
}
