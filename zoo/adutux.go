package zoo

import (
	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/hidsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/adutux"
)

func adutuxRelease() *Bug {
	b := &Bug{
		Name:      "adutux-release",
		Subsystem: "USB, adutux (Ontrak ADU)",
		Commit:    "123a0f125fa3d2104043697baa62899d9e549272",
		Subject:   "USB: adutux: fix use-after-free on release",
		Author:    "Johan Hovold, 2019-10 (Fixes: 66d4bc30d128; stable 3.12+)",
		Report: "No crash report is cited (the commit has no Reported-by): Johan Hovold found it " +
			"while fixing the USB misc drivers syzbot's stepped-up USB fuzzing was hitting (the " +
			"5.4-rc3 batch). release() used the driver's struct usb_device pointer without holding " +
			"a reference: a use-after-free whenever the device was unplugged while the character " +
			"device was open, at the final close.",
		Race: "T1 (unplug) the ADU is unplugged with /dev/adutux0 open: adu_disconnect gives back " +
			"the minor, poisons the URBs and marks the state disconnected, leaving it to the close; " +
			"usb_disconnect drops the last reference to the usb_device and usb_release_dev frees it " +
			"| T2 (app) the process closes the file: adu_release_internal logs the open count with " +
			"dev_dbg(&dev->udev->dev), through the freed usb_device.",
		Fix: "Probe takes a reference on the usb_device (dev->udev = usb_get_dev(udev)) and " +
			"adu_delete drops it (usb_put_dev) when it frees the driver state.",
		Notes: "drvsim logs every dev_dbg, as a kernel with dynamic debug on at the call site does, " +
			"and that is where the close touches the usb_device (with the message disabled, dev_dbg " +
			"does not evaluate its device and the close reads nothing of the freed struct; the " +
			"commit message does not make the distinction). The struct is a checked allocation " +
			"because the machine turns usbsim's SetCheckedDevices on (off by default, see its " +
			"documentation). No preemption is needed: closing after the unplug is enough, as the " +
			"commit says. Read, write and probe's serial-number string are left out.",
	}
	pair(b, "adutux driver", [2]string{
		"An ADU100 is unplugged while a process closes its /dev/adutux0: the close prints through " +
			"the usb_device pointer the driver never took a reference on.",
		"The same race with the fix: the driver holds the usb_device until its state is freed; no " +
			"schedule touches freed memory.",
	}, sim.BugUseAfterFree, adutuxRun)
	return b
}

// adutuxRun is one run: an ADU100 plugged into port 1 of a root hub
// whose usb_devices are checked allocations (usbsim's SetCheckedDevices),
// the adutux driver bound and /dev/adutux0 open (its interrupt-in URB
// submitted). Task "app" closes the file; task "unplug" pulls the device.
func adutuxRun(s *sim.Sim, sys *drvsim.System, fixed bool) {
	u, err := usbsim.Init(sys)
	must(err)
	h, err := u.AddHCD(2)
	must(err)
	u.SetCheckedDevices(true)
	v := adutux.Before
	if fixed {
		v = adutux.After
	}
	must(u.Register(adutux.New(v, u)))
	_, err = h.RootHub().Plug(1, adutux.Gadget(&hidsim.Reports{}))
	must(err)
	f, err := chardev.Open(sys, "/dev/adutux0")
	must(err)
	s.Go("app", func() { must(f.Close()) })
	s.Go("unplug", func() { must(h.RootHub().Unplug(1)) })
}
