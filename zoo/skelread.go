package zoo

import (
	"errors"
	"sync/atomic"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/skelread"
)

func skelReadURB() *Bug {
	b := &Bug{
		Name:      "skel-read-urb",
		Subsystem: "USB, usb-skeleton",
		Commit:    "6353001852776e7eeaab4da78922d4c6f2b076af",
		Subject:   "USB: usb-skeleton: fix use-after-free after driver unbind",
		Author:    "Johan Hovold, 2019-10",
		Report: "\"The driver failed to stop its read URB on disconnect, something which could lead to a " +
			"use-after-free in the completion handler after driver unbind in case the character device " +
			"has been closed.\" (the commit message; found by review)",
		Race: "T1 read() on /dev/skel0 takes the one byte the device had and, having been asked for more, " +
			"starts the next read URB and returns without waiting; meanwhile T2, another thread, " +
			"closed the descriptor before T1 took io_mutex, so skel_flush had nothing to stop and T1's " +
			"read drops the file's last reference. T3 unbinds the driver: the USB core flushes the " +
			"endpoint, but on a controller completing in a bottom half the URB's giveback is left " +
			"pending; disconnect kills the anchored URBs only and drops the last kref: skel_delete " +
			"frees the state | the bottom half runs skel_read_bulk_callback on it.",
		Fix: "usb_kill_urb(dev->bulk_in_urb) in skel_disconnect, before the anchored URBs are killed " +
			"and the probe's reference dropped.",
		Notes: "The kernel's usb_hcd_flush_endpoint returns once the endpoint's queue is empty, " +
			"without waiting for givebacks its controller's bottom half has queued (HCD_BH); the " +
			"machine's controller is set to complete in a bottom half (usbsim's HCD.SetGivebackBH). " +
			"The close racing the read is the one way the last reference goes without skel_flush " +
			"(which kills the read URB) running after the read. Runtime PM and the write path are " +
			"left out.",
	}
	pair(b, "usb-skeleton", [2]string{
		"The read URB of the 2019 usb-skeleton completes after a driver unbind and the file's last " +
			"reference have freed the driver state: a use-after-free in skel_read_bulk_callback.",
		"The same race with the fix: disconnect kills the read URB, whose completion runs while the " +
			"state is alive; no schedule touches freed memory.",
	}, sim.BugUseAfterFree, skelReadRun)
	return b
}

// skelReadRun is one run: a skeleton device (one byte of data waiting)
// on a host controller that gives URBs back in a bottom half, the 2019
// skeleton bound, /dev/skel0 open. Task "reader" reads up to 8 bytes
// while task "closer", another thread of the process, closes the
// descriptor; once the character device is closed (the last reference
// gone), task "unbind" unbinds the driver through
// sysfs (the device stays plugged in); task "hcd-bh" is the controller's
// bottom half, giving back finished URBs until the unbind is done.
func skelReadRun(s *sim.Sim, sys *drvsim.System, fixed bool) {
	u, err := usbsim.Init(sys)
	must(err)
	h, err := u.AddHCD(2)
	must(err)
	h.SetGivebackBH(true)
	v := skelread.Before
	if fixed {
		v = skelread.After
	}
	must(u.Register(skelread.New(v, u)))
	lb := usbsim.NewLoopback(0)
	lb.Feed([]byte{0x42})
	udev, err := h.RootHub().Plug(1, skelread.Gadget(lb))
	must(err)
	intf := udev.Interface(0)
	f, err := chardev.Open(sys, "/dev/skel0")
	must(err)
	var running atomic.Int32 // reader and closer, then unbind
	running.Store(2)
	done := func() { running.Add(-1) }
	s.Go("reader", func() {
		defer done()
		if _, err := f.Read(8); err != nil && !errors.Is(err, usbsim.ErrNoDevice) &&
			!errors.Is(err, usbsim.ErrIO) && !errors.Is(err, chardev.ErrBadFile) {
			panic(err)
		}
	})
	s.Go("closer", func() {
		defer done()
		_ = f.Close() // the flush's report of an earlier error is no failure
	})
	s.Go("unbind", func() {
		s.Block(sched.Wait{What: "the character device closed"}, func() bool { return running.Load() == 0 })
		must(sys.Unbind(intf.Dev()))
		running.Store(-1)
	})
	s.Go("hcd-bh", func() {
		for {
			s.Block(sched.Wait{What: "usb_giveback_urb_bh"}, func() bool { return h.Pending() > 0 || running.Load() < 0 })
			if h.Flush() == 0 && running.Load() < 0 {
				return
			}
		}
	})
}
