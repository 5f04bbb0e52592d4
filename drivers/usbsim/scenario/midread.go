package scenario

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// MidRead is scenario 2: a process has the skeleton's device (/dev/skel0)
// open and a read in flight (the device has no data yet) when the device
// is unplugged. Three simulated tasks: "reader" (a read, then, once the
// unplug is complete, a read, an ioctl and the close), "unplug" (the hub
// sees the port go empty, then tries a new open) and, with Feed,
// "hardware" (the USB device on the other end of the cable gets data to
// send: the first read can then complete). After the
// run the minor is free and its node gone, and every allocation has been
// freed exactly once (the Sim's leak check and the sanitizer).
//
// Invariants checked inside the run (a violation fails it, with the
// schedule to replay): the first read returns data or -ENODEV; the open
// after the unplug finds no node (-ENOENT); the read and ioctl after it
// return -ENODEV; the close succeeds.
type MidRead struct {
	// Variant is the skeleton under test.
	Variant skel.Variant
	// Feed adds the "hardware" task.
	Feed bool

	// Results of the last run.
	FirstData []byte
	FirstErr  error
	SecondErr error
	IoctlErr  error
	ReopenErr error

	runs drvsim.Runs // the Systems of the runs so far
}

// Scenario sets up one run on s: build the rig, plug the device, open its
// file, start the tasks. It is a sim scenario function (sim.Run,
// sim.Explore). Call Close after the run(s).
func (m *MidRead) Scenario(s *sim.Sim) {
	m.Close() // the previous run's rig, if any
	r, err := NewRig(m.Variant, m.runs.System(s))
	if err != nil {
		panic(err)
	}
	m.FirstData, m.FirstErr, m.SecondErr, m.IoctlErr, m.ReopenErr = nil, nil, nil, nil, nil
	lb := usbsim.NewLoopback(0)
	dev, err := r.Plug(1, lb)
	if err != nil {
		panic(err)
	}
	f, err := chardev.Open(r.Sys, "/dev/skel0")
	if err != nil {
		panic(err)
	}
	var unplugged atomic.Bool
	s.Go("reader", func() {
		m.FirstData, m.FirstErr = f.Read(16)
		if m.FirstErr != nil && !errors.Is(m.FirstErr, usbsim.ErrNoDevice) {
			panic(fmt.Sprintf("first read: want data or -ENODEV, got %v", m.FirstErr))
		}
		// The process learns that the device is gone (the "remove"
		// uevent); from then on every operation must fail.
		s.Block(sched.Wait{What: "remove uevent"}, unplugged.Load)
		_, m.SecondErr = f.Read(16)
		_, m.IoctlErr = f.Ioctl(skel.IoctlBulkInSize, nil)
		if !errors.Is(m.SecondErr, usbsim.ErrNoDevice) || !errors.Is(m.IoctlErr, usbsim.ErrNoDevice) {
			panic(fmt.Sprintf("after unplug: want -ENODEV, got read %v, ioctl %v", m.SecondErr, m.IoctlErr))
		}
		if err := f.Close(); err != nil {
			panic(fmt.Sprintf("close: %v", err))
		}
	})
	s.Go("unplug", func() {
		if err := r.HCD.RootHub().Unplug(1); err != nil {
			panic(err)
		}
		_, m.ReopenErr = chardev.Open(r.Sys, "/dev/skel0")
		if !errors.Is(m.ReopenErr, chardev.ErrNoEntry) {
			panic(fmt.Sprintf("open after unplug: want -ENOENT (no node), got %v", m.ReopenErr))
		}
		unplugged.Store(true)
	})
	if m.Feed {
		s.Go("hardware", func() {
			data := []byte("hello")
			s.Log().Emit(trace.Event{Kind: trace.Note, Func: "demo",
				Msg: fmt.Sprintf("the USB device has %d bytes to send on its bulk-in endpoint", len(data))})
			lb.Feed(data)
			dev.Kick()
		})
	}
}

// Run runs the scenario once under cfg and closes its rig.
func (m *MidRead) Run(cfg sim.Config) *sim.Result {
	defer m.Close()
	return sim.Run(cfg, m.Scenario)
}

// Explore runs the scenario under cfg's exploration and closes the rigs.
func (m *MidRead) Explore(cfg sim.ExploreConfig) *sim.ExploreResult {
	defer m.Close()
	return sim.Explore(cfg, m.Scenario)
}

// Close closes the Systems of past runs.
func (m *MidRead) Close() {
	m.runs.Close()
}
