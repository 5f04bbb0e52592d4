package kernel_test

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// Sleeping while holding a spinlock is the kernel's "sleeping function
// called from invalid context"; the report names what made the task
// atomic.
func ExampleSpinLock() {
	e := env.New()
	lock := kernel.NewSpinLock(e, "fifo_lock")
	flags := lock.LockIRQSave()
	kernel.Msleep(e, time.Millisecond) // wrong: the lock is held
	lock.UnlockIRQRestore(flags)
	kept, _ := e.Reports()
	fmt.Println(kept[0].Title)
	fmt.Print(kept[0].Details[:len("in_atomic(): 1, task: <setup>\natomic because of: irqs off, spinlock fifo_lock\n")])
	// Output:
	// BUG: sleeping function called from invalid context at msleep
	// in_atomic(): 1, task: <setup>
	// atomic because of: irqs off, spinlock fifo_lock
}

// A kref's release runs once, at the last put; a lookup afterwards cannot
// take a reference.
func ExampleKref() {
	k := kernel.NewKref(nil, "usb_skel")
	k.Get() // an open file
	release := func() { fmt.Println("skel_delete") }
	fmt.Println(k.Put(release), k.Read()) // the file closes
	fmt.Println(k.Put(release), k.Read()) // disconnect drops the last one
	fmt.Println(k.GetUnlessZero())
	// Output:
	// false 1
	// skel_delete
	// true 0
	// false
}

// Under the simulator a work item runs in a kworker task: the explorer
// interleaves it with the driver. cancel_work_sync waits for a running
// instance, so freeing the buffer after it is safe in every
// interleaving; cancel_work does not wait, and the explorer finds the
// use-after-free.
func ExampleWork_CancelSync() {
	teardown := func(sync bool) func(s *sim.Sim) {
		return func(s *sim.Sim) {
			buf := s.Alloc("rx_buf")
			w := kernel.NewWork(s, "rx_work", func(*kernel.Work) { buf.Access("read rx_buf") })
			s.Go("remove", func() {
				kernel.ScheduleWork(w)
				if sync {
					w.CancelSync()
				} else {
					w.Cancel()
				}
				buf.Free()
			})
		}
	}
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, teardown(true))
	fmt.Println("cancel_work_sync:", res.Failed(), res.Exhausted)
	res = sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, teardown(false))
	fmt.Println("cancel_work:", res.Failure.Failure.Title, "in", res.Failure.Failure.Task)
	// Output:
	// cancel_work_sync: false true
	// cancel_work: BUG: KASAN: use-after-free in read rx_buf in kworker/events
}

// A delayed work item and a timer on the machine's virtual clock: in the
// plain environment they fire when something moves the clock past their
// expiry; the work then runs on a worker goroutine.
func ExampleNewDelayedWork() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	e := sys.Env()
	dw := kernel.NewDelayedWork(sys, "poll", func(*kernel.DelayedWork) { fmt.Println("poll ran") })
	tm := kernel.NewTimer(sys, "watchdog", func(*kernel.Timer) { fmt.Println("watchdog fired at", e.Now()) })
	kernel.ScheduleDelayedWork(dw, 20*time.Millisecond)
	tm.Mod(e.Now() + 10*time.Millisecond)
	e.Advance(15 * time.Millisecond)
	fmt.Println("at", e.Now(), "poll pending:", dw.Pending())
	e.Advance(5 * time.Millisecond)
	dw.Work().Flush()
	// Output:
	// watchdog fired at 10ms
	// at 15ms poll pending: true
	// poll ran
}

// A threaded interrupt under the simulator: the hard handler runs in its
// own task, in atomic context, and wakes the thread, which may sleep.
func ExampleRequestThreadedIRQ() {
	res := sim.Run(sim.Config{}, func(s *sim.Sim) {
		hard := func(irq int, dev any) kernel.IRQReturn { return kernel.IRQWakeThread }
		thread := func(irq int, dev any) kernel.IRQReturn {
			kernel.Msleep(s, time.Millisecond) // an I2C transfer
			return kernel.IRQHandled
		}
		if err := kernel.RequestThreadedIRQ(s, 42, hard, thread, kernel.IRQFOneshot, "touch", nil); err != nil {
			panic(err)
		}
		s.Go("hw", func() { _ = kernel.RaiseIRQ(s, 42) })
	})
	for _, ev := range res.Events {
		if ev.Kind == kernel.KindIRQ {
			fmt.Printf("[%s] %s\n", env.OrSetup(ev.Task), ev.Short())
		}
	}
	// Output:
	// [<setup>] request_threaded_irq: irq 42 touch, thread irq/42-touch
	// [hardirq/42] handle_irq_event: irq 42 touch
	// [irq/42-touch] irq_thread_fn: irq 42 touch
}

// A probe that requests its interrupt with devm_request_irq and logs with
// dev_info: unbinding frees the interrupt.
func ExampleDevmRequestIRQ() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	probe := func(dev *device.Device) error {
		handler := func(irq int, id any) kernel.IRQReturn {
			kernel.DevDbg(id.(*device.Device), "irq %d", irq)
			return kernel.IRQHandled
		}
		if err := kernel.DevmRequestIRQ(dev, 17, handler, 0, "tmp102", dev); err != nil {
			return err
		}
		kernel.DevInfo(dev, "sensor ready, irq %d\n", 17)
		return nil
	}
	if err := sys.RegisterDriver(platform.NewDriver("tmp102", probe, nil)); err != nil {
		panic(err)
	}
	dev := sys.NewPlatformDevice("tmp102")
	if err := sys.RegisterDevice(dev); err != nil {
		panic(err)
	}
	_ = kernel.RaiseIRQ(sys, 17)
	if err := sys.UnregisterDevice(dev); err != nil {
		panic(err)
	}
	for _, ev := range sys.Events() {
		switch ev.Kind {
		case kernel.KindIRQ, kernel.KindPrintk, trace.DevresRelease:
			fmt.Println(ev.Short())
		}
	}
	// Output:
	// devm_request_irq: irq 17 tmp102
	// dev_info /sys/devices/platform/tmp102: sensor ready, irq 17
	// handle_irq_event: irq 17 tmp102
	// dev_dbg /sys/devices/platform/tmp102: irq 17
	// devres_release_all /sys/devices/platform/tmp102: 1 action
	// devm_action_release /sys/devices/platform/tmp102: devm_irq_release 17 tmp102
	// free_irq: irq 17 tmp102
}
