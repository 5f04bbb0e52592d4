//go:build unix

package scenarios_test

import (
	"fmt"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
)

// cpuTime returns the CPU time the process has used so far, user and
// system, every thread included (getrusage RUSAGE_SELF).
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkExplore explores, exhaustively with its default settings, each
// scenario the exploration speed targets name: drvsim-shared-handle (the
// design lab's, no preemption bound) and revocable-readers-vs-unregister
// (the driver core with a devm revocable provider, two readers against
// device_unregister, at most 2 preemptions per schedule). Every
// exploration must exhaust its space with the predicted outcome. It
// reports schedules per CPU-second (user+system time of the whole
// process, the collector's included) and per wall-clock second:
//
//	go test -run x -bench Explore -benchtime 20x ./scenarios
func BenchmarkExplore(b *testing.B) {
	for _, name := range []string{"drvsim-shared-handle", "revocable-readers-vs-unregister"} {
		b.Run(name, func(b *testing.B) { benchExplore(b, name, 1) })
	}
}

// BenchmarkExploreWorkers explores revocable-readers-vs-unregister and
// drvsim-shared-handle with one worker (the baseline) and with one per
// CPU (sim.AllCPUs, so that -cpu 1,2 gives each setting its own), in the
// same run: the ratio of their schedules/s is the parallel speed-up
// (issue 13's target: 1.7x on 2 idle cores). Each runs with Go's default
// collector setting and with sim.GCPercent, the drvsim command's (the
// process's own setting is put back after).
func BenchmarkExploreWorkers(b *testing.B) {
	for _, gc := range []int{100, sim.GCPercent} {
		b.Run(fmt.Sprintf("gogc=%d", gc), func(b *testing.B) {
			old := debug.SetGCPercent(gc)
			defer debug.SetGCPercent(old)
			for _, w := range []int{1, sim.AllCPUs} {
				name := "workers=1"
				if w == sim.AllCPUs {
					name = "workers=all"
				}
				b.Run(name, func(b *testing.B) {
					for _, name := range []string{"revocable-readers-vs-unregister", "drvsim-shared-handle"} {
						b.Run(name, func(b *testing.B) { benchExplore(b, name, w) })
					}
				})
			}
		})
	}
}

// benchExplore explores the registered scenario name exhaustively with
// its defaults on workers workers, and reports schedules per operation,
// per CPU-second and per wall-clock second.
func benchExplore(b *testing.B, name string, workers int) {
	b.Helper()
	sc, ok := scenarios.Lookup(name)
	if !ok {
		b.Fatalf("no scenario %s", name)
	}
	cfg := sc.Config()
	cfg.Workers = workers
	cfg.NoMinimize = true
	schedules := 0
	cpu := cpuTime(b)
	for b.Loop() {
		res := sc.Explore(cfg)
		if err := sc.Check(res); err != nil || !res.Exhausted {
			b.Fatalf("%s: %v: %s", name, err, res)
		}
		schedules += res.Schedules
	}
	cpu = cpuTime(b) - cpu
	b.ReportMetric(float64(schedules)/float64(b.N), "schedules/op")
	b.ReportMetric(float64(schedules)/cpu.Seconds(), "schedules/cpu-s")
	b.ReportMetric(float64(schedules)/b.Elapsed().Seconds(), "schedules/s")
}
