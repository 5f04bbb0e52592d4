package zoo

import (
	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/iowarrior"
)

func iowarriorDisconnect() *Bug {
	b := &Bug{
		Name:      "iowarrior-disconnect",
		Subsystem: "USB, iowarrior",
		Commit:    "edc4746f253d907d048de680a621e121517f484b",
		Subject:   "USB: iowarrior: fix use-after-free on disconnect",
		Author:    "Johan Hovold, 2019-10 (reported by syzbot; CVE-2019-19528)",
		Report:    "KASAN: use-after-free in iowarrior_disconnect, found by syzbot unplugging a device with its character device open.",
		Race: "T1 (unplug) iowarrior_disconnect clears present outside the driver-data mutex and gives " +
			"back the minor | T2 (close) iowarrior_release takes the mutex, clears opened, sees the device " +
			"gone and frees the state | T1 locks dev->mutex, tests dev->opened and kills dev->int_in_urb " +
			"in freed memory.",
		Fix: "Clear present and test opened under dev->mutex in disconnect, and unlock it only after " +
			"the URB is killed (or before freeing, when no file is open).",
	}
	pair(b, "iowarrior driver", [2]string{
		"An IO-Warrior is unplugged while a process closes its /dev/usb/iowarrior0: release frees " +
			"the state disconnect goes on using.",
		"The same race with the fix: disconnect and release decide under dev->mutex; every schedule " +
			"frees the state once, after both are done with it.",
	}, sim.BugUseAfterFree, iowarriorRun)
	return b
}

// iowarriorRun is one run: an IOW40 plugged into port 1 of a root hub, the
// iowarrior driver bound and /dev/usb/iowarrior0 open (its interrupt URB
// submitted). Task "app" closes the file; task "unplug" pulls the device.
func iowarriorRun(s *sim.Sim, sys *drvsim.System, fixed bool) {
	u, err := usbsim.Init(sys)
	must(err)
	h, err := u.AddHCD(2)
	must(err)
	v := iowarrior.Before
	if fixed {
		v = iowarrior.After
	}
	must(u.Register(iowarrior.New(v, u)))
	_, err = h.RootHub().Plug(1, iowarrior.Gadget(usbsim.NewLoopback(0)))
	must(err)
	f, err := chardev.Open(sys, "/dev/usb/iowarrior0")
	must(err)
	s.Go("app", func() { must(f.Close()) })
	s.Go("unplug", func() { must(h.RootHub().Unplug(1)) })
}
