package docs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
)

// kernel.md: msleep under spin_lock_irqsave, in the plain environment.
func kernelSleepInAtomic() (string, error) {
	e := env.New()
	lock := kernel.NewSpinLock(e, "fifo_lock")
	flags := lock.LockIRQSave()
	kernel.Msleep(e, time.Millisecond) // wrong: the lock is held
	lock.UnlockIRQRestore(flags)
	kept, total := e.Reports()
	if total != 1 {
		return "", fmt.Errorf("%d reports, want 1", total)
	}
	// The call trace up to the scenario's frame: the frames below it are
	// the docs harness's.
	var b strings.Builder
	for _, l := range strings.SplitAfter(kept[0].String(), "\n") {
		b.WriteString(l)
		if strings.Contains(l, "kernelSleepInAtomic") {
			break
		}
	}
	return b.String(), nil
}

// sensorTeardown is the scenario of kernel.md: a sensor driver's
// interrupt handler queues work that reads the sample buffer; the
// driver's remove frees the interrupt, cancels the work (waiting for it
// with cancel_work_sync, or not with cancel_work) and frees the buffer,
// while the hardware raises the interrupt.
func sensorTeardown(sync bool) func(s *sim.Sim) {
	return func(s *sim.Sim) {
		buf := s.Alloc("sample_buf")
		work := kernel.NewWork(s, "sample_work", func(*kernel.Work) {
			buf.Access("read sample_buf")
		})
		handler := func(irq int, dev any) kernel.IRQReturn {
			kernel.ScheduleWork(work) // hard interrupt context: defer the slow part
			return kernel.IRQHandled
		}
		if err := kernel.RequestIRQ(s, 17, handler, 0, "sensor", nil); err != nil {
			panic(err)
		}
		s.Go("hw", func() { _ = kernel.RaiseIRQ(s, 17) })
		s.Go("remove", func() {
			kernel.FreeIRQ(s, 17, nil) // no new interrupt, none running
			if sync {
				work.CancelSync() // and no work running
			} else {
				work.Cancel() // wrong: a running instance goes on
			}
			buf.Free()
		})
	}
}

// kernel.md: one run of the correct teardown in which the interrupt, its
// work and the removal interleave.
func kernelSensorTrace() (string, error) {
	r := sim.Run(sim.Config{Seed: kernelSensorSeed}, sensorTeardown(true))
	if r.Failed() {
		return "", fmt.Errorf("%s", r)
	}
	return r.TraceText(), nil
}

// kernelSensorSeed picks a run in which free_irq waits for the running
// handler and cancel_work_sync for the work it queued.
const kernelSensorSeed = 36

// sensorSchedules bounds the search of the correct teardown above its
// 1,516 interleavings.
const sensorSchedules = 5000

// kernel.md: the exhaustive search of both teardowns.
func kernelSensorExplore() (string, error) {
	good := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: sensorSchedules}, sensorTeardown(true))
	if good.Failed() {
		return "", fmt.Errorf("%s", good)
	}
	bad := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive,
		Config: sim.Config{Test: "TestKernelSensorTeardown", Pkg: "./docs"}}, sensorTeardown(false))
	if !bad.Failed() {
		return "", fmt.Errorf("cancel_work: no failure: %s", bad)
	}
	return "cancel_work_sync: " + good.String() + "cancel_work: " +
		reportExcerpt(bad.String(), true, 3, 1, 2), nil
}

// TestKernelSensorTeardown explores the wrong teardown of kernel.md (the
// replay hint on the page names it): cancel_work lets the work read the
// freed buffer. DRVSIM_SCHEDULE replays the failing schedule.
func TestKernelSensorTeardown(t *testing.T) {
	cfg := sim.EnvConfig(t.Name(), 0)
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: cfg}, sensorTeardown(false))
	if !res.Failed() || res.Failure.Failure.Kind != sim.BugUseAfterFree {
		t.Fatalf("cancel_work: want a use-after-free, got %s", res)
	}
}

// TestKernelSensorTeardownSync: with cancel_work_sync no interleaving
// fails.
func TestKernelSensorTeardownSync(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: sensorSchedules}, sensorTeardown(true))
	if res.Failed() || !res.Exhausted {
		t.Fatalf("cancel_work_sync: %s", res)
	}
}
