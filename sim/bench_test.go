package sim_test

import (
	"testing"

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

func BenchmarkExploreTwoReadersOneUnplug(b *testing.B) {
	schedules := 0
	for b.Loop() {
		r := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000}, twoReadersOneUnplug)
		if r.Failed() || !r.Exhausted {
			b.Fatalf("unexpected: %v", r)
		}
		schedules += r.Schedules
	}
	b.ReportMetric(float64(schedules)/b.Elapsed().Seconds(), "schedules/s")
}
