package zoo

import (
	"sync/atomic"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/hidsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/ldusb"
)

func ldusbUnbind() *Bug {
	b := &Bug{
		Name:      "ldusb-unbind",
		Subsystem: "USB, ldusb (LD Didactic CASSY)",
		Commit:    "58ecf131e74620305175a7aa103f81350bb37570",
		Subject:   "USB: ldusb: fix NULL-derefs on driver unbind",
		Author:    "Johan Hovold, 2019-10 (Fixes: 2824bd250f0b, the driver's first version)",
		Report: "No crash report is cited (the commit has no Reported-by): Johan Hovold found it " +
			"while fixing the USB misc drivers syzbot's stepped-up USB fuzzing was hitting (the " +
			"5.4-rc3 batch). The driver cleared its struct usb_interface pointer at disconnect, as a " +
			"\"disconnected\" flag, before making sure its completion handlers had run, and those " +
			"print through it (dev_dbg, dev_warn, dev_err on &dev->intf->dev): NULL-pointer " +
			"dereferences after a driver unbind.",
		Race: "T1 (unbind) unbinds ldusb from a CASSY whose /dev/ldusb0 is open: usb_unbind_interface " +
			"flushes the interrupt-in endpoint, but a report the hardware had delivered waits for the " +
			"controller's bottom half, which the flush does not wait for; ld_usb_disconnect, the file " +
			"being open, sets dev->intf to NULL | T2 (hcd-bh) the bottom half gives the report back: " +
			"ld_usb_interrupt_in_callback stores it and logs \"received 3 bytes\" with " +
			"dev_dbg(&dev->intf->dev): a NULL dereference.",
		Fix: "Disconnect poisons both interrupt URBs (usb_poison_urb runs or waits for a pending " +
			"completion and makes resubmission fail) and sets a new disconnected flag instead of " +
			"clearing dev->intf; the abort of the transfers kills the URBs unconditionally, " +
			"ld_usb_delete no longer aborts them, and the resubmission no longer tests dev->intf.",
		Notes: "drvsim logs every dev_dbg, as a kernel with dynamic debug on at the call site does; " +
			"that is where this schedule dereferences NULL. With the call site's debugging off the " +
			"same completion passes (dev_dbg does not evaluate its device, and the resubmission, " +
			"testing dev->intf, is skipped); the crash then needs the narrower window the commit " +
			"covers too: a resubmission that tested dev->intf fails on the disabled endpoint while " +
			"disconnect clears the pointer, and dev_err dereferences it. The controller completes in " +
			"a bottom half (usbsim's HCD.SetGivebackBH), as ehci and xhci do. The process closes " +
			"its file once the unbind is over and the bottom half has nothing left to give back: " +
			"closed earlier, the old release frees the state under the pending completion, a " +
			"use-after-free this commit also ends but does not name. The write path is left out.",
	}
	pair(b, "ldusb driver", [2]string{
		"A CASSY's driver is unbound while /dev/ldusb0 is open and a report waits for the " +
			"controller's bottom half: the completion prints through the interface pointer " +
			"disconnect cleared.",
		"The same race with the fix: disconnect poisons the URBs, running the pending completion " +
			"while the interface pointer is valid, and keeps the pointer; no schedule dereferences " +
			"NULL.",
	}, sim.BugPanic, ldusbRun)
	return b
}

// ldusbRun is one run: a CASSY-S with one report to send on a host
// controller that gives URBs back in a bottom half, the ldusb driver
// bound and /dev/ldusb0 open (its interrupt-in URB submitted and
// answered at once: the giveback waits for the bottom half). Task
// "unbind" unbinds the driver through sysfs (the device stays plugged
// in); task "hcd-bh" is the bottom half, giving back finished URBs until
// the unbind is over; task "app" closes the file once the bottom half
// has nothing left to give back.
func ldusbRun(s *sim.Sim, sys *drvsim.System, fixed bool) {
	u, err := usbsim.Init(sys)
	must(err)
	h, err := u.AddHCD(2)
	must(err)
	h.SetGivebackBH(true)
	v := ldusb.Before
	if fixed {
		v = ldusb.After
	}
	must(u.Register(ldusb.New(v, u)))
	reports := &hidsim.Reports{}
	reports.Push([]byte{0x42, 0x43, 0x44})
	udev, err := h.RootHub().Plug(1, ldusb.Gadget(reports))
	must(err)
	intf := udev.Interface(0)
	f, err := chardev.Open(sys, "/dev/ldusb0")
	must(err)
	var unbound, idle atomic.Bool
	s.Go("unbind", func() {
		must(sys.Unbind(intf.Dev()))
		unbound.Store(true)
	})
	s.Go("hcd-bh", func() {
		for {
			s.Block(sched.Wait{What: "usb_giveback_urb_bh"}, func() bool { return h.Pending() > 0 || unbound.Load() })
			over := unbound.Load()
			if h.Flush() == 0 && over {
				idle.Store(true)
				return
			}
		}
	})
	s.Go("app", func() {
		s.Block(sched.Wait{What: "the unbind over, the bottom half idle"}, idle.Load)
		must(f.Close())
	})
}
