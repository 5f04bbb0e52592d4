package sim_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/kernelmodel"
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

// twoReadersVsUnregister is the driver core with revocable: a platform
// driver puts its device's registers behind a devm-managed provider (the
// registers are freed by a devm action registered before it, so after the
// revoke); two processes that opened the device read through their own
// consumers while device_unregister unbinds it.
func twoReadersVsUnregister(s *sim.Sim) {
	sys := drvsim.NewSystem(drvsim.OnSim(s))
	s.Cleanup(sys.Close)
	var p *revocable.Provider[env.Object]
	drv := platform.NewDriver("ec", func(dev *device.Device) error {
		regs := s.Alloc("ec_regs")
		if _, err := dev.Devres().Add("ec_regs_free", regs.Free); err != nil {
			return err
		}
		var err error
		p, err = revocable.DevmProvider(dev, regs, revocable.WithName("ec"))
		return err
	}, nil)
	if err := sys.RegisterDriver(drv); err != nil {
		panic(err)
	}
	dev := sys.NewPlatformDevice("ec.0")
	if err := sys.RegisterDevice(dev); err != nil {
		panic(err)
	}
	for range 2 {
		c, err := revocable.New(p) // open()
		if err != nil {
			panic(err)
		}
		s.Go("reader", func() {
			regs, a := c.TryAccess()
			if regs != nil {
				regs.Access("ec_cmd_xfer")
				s.CondResched("ec_cmd_xfer")
				regs.Access("ec_cmd_xfer")
			}
			a.Release()
			if err := c.Close(); err != nil { // release()
				panic(err)
			}
		})
	}
	s.Go("unregister", func() {
		if err := sys.UnregisterDevice(dev); err != nil {
			panic(err)
		}
	})
}

// cpuTime returns the process's user and system CPU time.
func cpuTime(b *testing.B) time.Duration {
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

// BenchmarkExploreSharedHandle is the design lab's drvsim-shared-handle,
// every interleaving (issue 12's target: 30,000 schedules per CPU-second).
func BenchmarkExploreSharedHandle(b *testing.B) {
	sc, ok := kernelmodel.Lookup("drvsim-shared-handle")
	if !ok {
		b.Fatal("no drvsim-shared-handle")
	}
	benchExplore(b, sim.ExploreConfig{}, sc.Run)
}

// BenchmarkExploreDriverCoreTwoReaders is two readers against
// device_unregister with preemption bound 2 (issue 12's target: 10,000
// schedules per CPU-second).
func BenchmarkExploreDriverCoreTwoReaders(b *testing.B) {
	benchExplore(b, sim.ExploreConfig{MaxPreemptions: 2}, twoReadersVsUnregister)
}

// BenchmarkExploreWorkers runs the driver-core search with one worker
// (the baseline) and with one per CPU, in the same run: the ratio of their
// schedules/s is the parallel speed-up (target: 1.7x on 2 cores).
func BenchmarkExploreWorkers(b *testing.B) {
	for _, w := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			benchExplore(b, sim.ExploreConfig{MaxPreemptions: 2, Workers: w}, twoReadersVsUnregister)
		})
	}
}
