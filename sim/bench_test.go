package sim_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
)

// twoReadersOneUnplug is the benchmark's toy driver: two readers check a
// "gone" flag under the device mutex before touching the device; unplug sets
// the flag under the mutex, then frees the device. It is correct, so an
// exhaustive search runs every interleaving.
func twoReadersOneUnplug(s *sim.Sim) {
	dev := s.Alloc("usb_dev")
	mu := kernel.NewMutex(s, "dev_lock")
	gone := false
	reader := func() {
		s.CondResched("open")
		mu.Lock()
		if !gone {
			dev.Access("read")
		}
		mu.Unlock()
	}
	s.Go("reader", reader)
	s.Go("reader", reader)
	s.Go("unplug", func() {
		mu.Lock()
		gone = true
		mu.Unlock()
		dev.Free()
	})
}

// cpuTime returns the process's user and system CPU time.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchExplore explores scenario exhaustively per iteration and reports
// schedules per wall-clock second and per CPU-second (all threads of the
// process, the collector included).
func benchExplore(b *testing.B, cfg sim.ExploreConfig, scenario func(*sim.Sim)) {
	b.Helper()
	cfg.Mode, cfg.Schedules, cfg.NoMinimize = sim.Exhaustive, 1<<30, true
	schedules := 0
	cpu0 := cpuTime(b)
	for b.Loop() {
		r := sim.Explore(cfg, scenario)
		if r.Failed() || !r.Exhausted {
			b.Fatalf("unexpected: %v", r)
		}
		schedules += r.Schedules
	}
	cpu := cpuTime(b) - cpu0
	b.ReportMetric(float64(schedules)/b.Elapsed().Seconds(), "schedules/s")
	b.ReportMetric(float64(schedules)/cpu.Seconds(), "schedules/cpu-s")
	b.ReportMetric(float64(schedules)/float64(b.N), "schedules/op")
}

func BenchmarkExploreTwoReadersOneUnplug(b *testing.B) {
	benchExplore(b, sim.ExploreConfig{}, twoReadersOneUnplug)
}
