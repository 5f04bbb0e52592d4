package zoo

import (
	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/hidsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/appleir"
)

func appleirTimer() *Bug {
	b := &Bug{
		Name:      "appleir-timer",
		Subsystem: "HID over USB, hid-appleir",
		Commit:    "75fe87e19d8aff81eb2c64d15d244ab8da4de945",
		Subject:   "HID: appleir: fix UAF on pending key_up_timer in remove()",
		Author:    "Manish Khadka, 2026-05",
		Report: "use-after-free of the input device from key_up_tick: the key-up timer, armed 125 ms " +
			"after each key event, fires after remove() freed the input device (found by review; " +
			"a sibling of 4db2af929279, \"HID: appletb-kbd: fix UAF in inactivity-timer cleanup path\").",
		Race: "A key press arms key_up_timer for 125 ms later. T1 removes the driver: appleir_remove " +
			"calls hid_hw_stop, whose hidinput_disconnect unregisters the input device, freed as no " +
			"user space holds it | T2, the timer, fires: key_up_tick reports the key up on the freed " +
			"input device | T1 would only then call timer_delete_sync.",
		Fix: "A removing flag under appleir->lock, set first in remove and checked by key_up_tick and " +
			"appleir_raw_event; timer_shutdown_sync (drains the callback and forbids re-arming) " +
			"before hid_hw_stop.",
		Notes: "The commit also names a URB completion calling raw_event during hid_hw_stop; in the " +
			"HID core the removal holds driver_input_lock, which hid_input_report only try-locks, " +
			"so that report is dropped (drvsim models the lock). The timer window is what is " +
			"reproduced. The driver is removed by rmmod: drvsim cannot unplug a USB device with a " +
			"hid_device bound (see package hidsim).",
	}
	pair(b, "hid-appleir", [2]string{
		"An Apple remote's key press arms the 125 ms key-up timer; hid-appleir is removed as it is " +
			"due: hid_hw_stop frees the input device before the timer is deleted.",
		"The same race with the fix: remove marks the driver removing and shuts the timer down " +
			"before stopping the hardware; no schedule touches freed memory.",
	}, sim.BugUseAfterFree, appleirRun)
	return b
}

// appleirRun is one run: an Apple IR receiver plugged into a root hub,
// usbhid and hid-appleir bound, its input device registered. Task
// "remote": a key press (the receiver's interrupt-in report, given back
// by the controller). Task "rmmod": 125 ms later, as the key-up timer is
// due, hid-appleir is unloaded (hid_unregister_driver).
func appleirRun(s *sim.Sim, sys *drvsim.System, fixed bool) {
	u, err := usbsim.Init(sys)
	must(err)
	hcd, err := u.AddHCD(2)
	must(err)
	h, err := hidsim.Init(u)
	must(err)
	v := appleir.Before
	if fixed {
		v = appleir.After
	}
	drv := appleir.Driver(v)
	must(h.RegisterDriver(drv))
	reports := &hidsim.Reports{}
	udev, err := hcd.RootHub().Plug(1, &usbsim.Gadget{
		Desc: usbsim.DeviceDescriptor{VendorID: appleir.VendorApple, ProductID: appleir.IRControl},
		Config: usbsim.ConfigDescriptor{Value: 1, Interfaces: []usbsim.InterfaceDescriptor{{Class: 3,
			Endpoints: []usbsim.EndpointDescriptor{{Address: usbsim.DirIn | 2, Type: usbsim.Interrupt, MaxPacket: 5}}}}},
		Function: reports,
	})
	must(err)
	s.Go("remote", func() {
		reports.Push(appleir.KeyDown(1)) // menu
		udev.Kick()
		hcd.Flush()
	})
	s.Go("rmmod", func() {
		kernel.Msleep(sys, appleir.KeyUpDelay)
		must(h.UnregisterDriver(drv))
	})
}
