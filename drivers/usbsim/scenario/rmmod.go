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
)

// RmmodMidIO is the skeleton's driver unbound while the device stays
// plugged in (rmmod: usb_deregister), with a read and a write in flight.
// Two processes have /dev/skel0 open. The device is a loopback that holds
// one byte, so neither transfer completes by itself: the read waits for
// data, the write's URB is NAKed. Three simulated tasks: "reader" (a read;
// once rmmod is over, a read and the close), "writer" (a five-byte write;
// once rmmod is over, a write and the close) and "rmmod" (usb_deregister,
// then an open of the node). The USB core terminates the interface's URBs
// before the driver's disconnect (usb_disable_interface) and enables the
// endpoints again after it (usb_enable_interface), ready for the next
// driver: from then on a submission to them succeeds, so a driver must
// have stopped its I/O by the end of its disconnect.
//
// Invariants checked inside the run (a violation fails it, with the
// schedule to replay): the first read returns -ENODEV (its URB terminated,
// or the device gone to the driver), never data and never -ETIMEDOUT (a
// read that reached the endpoint after disconnect); the first write
// returns its length or -ENODEV; once rmmod has returned the interface is
// unbound, the device still configured, no URB is queued on or finished
// for it, a new open finds no node (-ENOENT), and a read and a write on
// the open files return -ENODEV; the closes succeed. After the run every
// allocation has been freed exactly once (the Sim's leak check and the
// sanitizer).
type RmmodMidIO struct {
	// Variant is the skeleton under test.
	Variant skel.Variant

	// Results of the last run.
	ReadErr       error
	WriteN        int
	WriteErr      error
	AfterReadErr  error
	AfterWriteErr error
	ReopenErr     error

	runs drvsim.Runs // the Systems of the runs so far
}

// writeData is what the writer writes: more than the loopback holds, so
// the device NAKs the URB until it is terminated.
var writeData = []byte("hello")

// Scenario sets up one run on s: build the rig, plug the device, open its
// file twice, start the tasks. It is a sim scenario function (sim.Run,
// sim.Explore). Call Close after the run(s).
func (m *RmmodMidIO) Scenario(s *sim.Sim) {
	m.Close()
	r, err := NewRig(m.Variant, m.runs.System(s))
	if err != nil {
		panic(err)
	}
	m.ReadErr, m.WriteN, m.WriteErr, m.AfterReadErr, m.AfterWriteErr, m.ReopenErr = nil, 0, nil, nil, nil, nil
	dev, err := r.Plug(1, usbsim.NewLoopback(1))
	if err != nil {
		panic(err)
	}
	intf := dev.Interface(0)
	rf, err := chardev.Open(r.Sys, "/dev/skel0")
	if err != nil {
		panic(err)
	}
	wf, err := chardev.Open(r.Sys, "/dev/skel0")
	if err != nil {
		panic(err)
	}
	var removed atomic.Bool
	gone := func() bool { return removed.Load() }
	s.Go("reader", func() {
		var data []byte
		data, m.ReadErr = rf.Read(16)
		if !errors.Is(m.ReadErr, usbsim.ErrNoDevice) {
			panic(fmt.Sprintf("read in flight at rmmod: want -ENODEV, got %q, %v", data, m.ReadErr))
		}
		s.Block(sched.Wait{What: "rmmod done"}, gone)
		_, m.AfterReadErr = rf.Read(16)
		if !errors.Is(m.AfterReadErr, usbsim.ErrNoDevice) {
			panic(fmt.Sprintf("read after rmmod: want -ENODEV, got %v", m.AfterReadErr))
		}
		if err := rf.Close(); err != nil {
			panic(fmt.Sprintf("close: %v", err))
		}
	})
	s.Go("writer", func() {
		m.WriteN, m.WriteErr = wf.Write(writeData)
		if m.WriteErr != nil && !errors.Is(m.WriteErr, usbsim.ErrNoDevice) {
			panic(fmt.Sprintf("write in flight at rmmod: want %d or -ENODEV, got %d, %v", len(writeData), m.WriteN, m.WriteErr))
		}
		s.Block(sched.Wait{What: "rmmod done"}, gone)
		_, m.AfterWriteErr = wf.Write(writeData)
		if !errors.Is(m.AfterWriteErr, usbsim.ErrNoDevice) {
			panic(fmt.Sprintf("write after rmmod: want -ENODEV, got %v", m.AfterWriteErr))
		}
		if err := wf.Close(); err != nil {
			panic(fmt.Sprintf("close: %v", err))
		}
	})
	s.Go("rmmod", func() {
		if err := r.USB.Deregister(r.Driver); err != nil {
			panic(err)
		}
		if intf.Driver() != nil || dev.State() != usbsim.StateConfigured {
			panic(fmt.Sprintf("after rmmod: interface bound to %v, device %s", intf.Driver(), dev.State()))
		}
		if n := dev.URBsInFlight(); n > 0 {
			panic(fmt.Sprintf("after rmmod: %d URB(s) of the unbound driver still in flight on %s", n, dev.Name()))
		}
		_, m.ReopenErr = chardev.Open(r.Sys, "/dev/skel0")
		if !errors.Is(m.ReopenErr, chardev.ErrNoEntry) {
			panic(fmt.Sprintf("open after rmmod: want -ENOENT (no node), got %v", m.ReopenErr))
		}
		removed.Store(true)
	})
}

// Run runs the scenario once under cfg and closes its rig.
func (m *RmmodMidIO) Run(cfg sim.Config) *sim.Result {
	defer m.Close()
	return sim.Run(cfg, m.Scenario)
}

// Explore runs the scenario under cfg's exploration and closes the rigs.
func (m *RmmodMidIO) Explore(cfg sim.ExploreConfig) *sim.ExploreResult {
	defer m.Close()
	return sim.Explore(cfg, m.Scenario)
}

// Close closes the Systems of past runs.
func (m *RmmodMidIO) Close() {
	m.runs.Close()
}
