// Command usb-unplug pulls a USB device out while a process is reading
// from it, with the usb-skeleton driver converted to revocable
// (skel-revocable), and shows that the read fails cleanly with -ENODEV, the
// driver's state is freed only once no reader can touch it, and the open
// file outlives the device until its last close.
//
// The steps, each one a kernel path:
//
//  1. usb_init, usb_add_hcd, usb_register: a USB core with a root hub and
//     the skeleton driver registered.
//  2. hub_port_connect: a device is plugged into port 1; the interface
//     binds to skel-revocable, whose probe creates a revocable provider of
//     its hardware state, with its revoke as a devm action, and registers
//     /dev/skel0.
//  3. open("/dev/skel0"): the file takes a consumer handle.
//  4. A process writes "hello" and reads it back, then reads again: the
//     device has nothing more to say, so the read sleeps on its URB.
//  5. usb_disconnect: the cable is pulled mid-read. The USB core kills the
//     read's URB (-ESHUTDOWN), disconnect gives the minor back and revokes
//     the provider, waiting for the reader to leave its section; only then
//     does devres free the hardware state.
//  6. The open file: read and ioctl return -ENODEV, a new open fails, and
//     the last close drops the consumer, releasing the provider.
//
// The process and the hub are two tasks of package sim's deterministic
// scheduler, run without preemption: each runs until it has to wait. The
// output is the same on every run, and the driver's allocations are checked
// like KASAN would check them.
//
// Run it with:
//
//	go run ./examples/usb-unplug
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	var sys *drvsim.System // to close after the run

	// Mode Exhaustive without a Replay schedule is the schedule without
	// preemptions: a task runs until it blocks or exits.
	res := sim.Run(sim.Config{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		say := func(msg string) {
			s.Log().Emit(trace.Event{Kind: trace.Note, Func: "say", Msg: msg})
		}
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}

		// 1. The machine, on the Sim: its trace, schedule points,
		//    checked memory and clock are the run's.
		say("1. the machine: driver core, USB core, a host controller, skel-revocable registered")
		sys = drvsim.NewSystem(drvsim.OnSim(s))
		usb, err := usbsim.Init(sys) // usb_init
		must(err)
		hcd, err := usb.AddHCD(4) // usb_add_hcd: root hub usb1, 4 ports
		must(err)
		drv := skel.NewRevocable(usb) // its minors: USB_MAJOR 180, from 192
		must(usb.Register(drv))       // usb_register(&skel_driver)

		// 2. Plug a device into port 1. The gadget answers like the
		//    skeleton's hardware: a bulk IN and a bulk OUT endpoint,
		//    here a loopback (what is written can be read back).
		say("2. a skeleton device is plugged into port 1")
		lb := usbsim.NewLoopback(0)
		_, err = hcd.RootHub().Plug(1, skel.Gadget(lb))
		must(err)

		// 3. open("/dev/skel0")
		say("3. a process opens /dev/skel0")
		f, err := chardev.Open(sys, "/dev/skel0") // chrdev_open -> usb_open -> skel_open
		must(err)

		// The process learns that the device is gone from the remove
		// uevent; in the simulation, a completion.
		gone := kernel.NewCompletion(s, "remove uevent")

		s.Go("process", func() {
			// 4. write, read it back, read again.
			say("4. process: write(\"hello\"), then read it back")
			_, err := f.Write([]byte("hello"))
			must(err)
			data, err := f.Read(16)
			must(err)
			say(fmt.Sprintf("process: read returned %q", data))

			say("process: read again: nothing to read, the read sleeps on its URB")
			_, err = f.Read(16)
			say("process: the read in flight returned " + errno(err))

			// 6. After the unplug, with the file still open.
			gone.Wait()
			say("6. process: the device is gone, the file is still open")
			_, err = f.Read(16)
			say("process: read -> " + errno(err))
			_, err = f.Ioctl(skel.IoctlBulkInSize, nil)
			say("process: ioctl -> " + errno(err))
			say("process: close: the last reference to the provider goes")
			must(f.Close())
		})

		s.Go("khubd", func() {
			// 5. The hub driver sees port 1 go empty: usb_disconnect.
			say("5. khubd: the cable is pulled: usb_disconnect")
			must(hcd.RootHub().Unplug(1))
			_, err := chardev.Open(sys, "/dev/skel0")
			say("khubd: unplug complete; a new open of /dev/skel0 -> " + errno(err))
			if !errors.Is(err, chardev.ErrNoEntry) {
				panic("open after unplug: want -ENOENT: usb_deregister_dev removed the node")
			}
			gone.Complete()
		})
	})
	if sys != nil {
		sys.Close()
	}

	// The trace, cut down to what tells the story.
	for _, e := range res.Events {
		if keep(e) {
			fmt.Fprintln(w, e)
		}
	}
	fmt.Fprint(w, res) // the outcome: passed, or the sanitizer's report
	if res.Failed() {
		return errors.New("usb-unplug: the run failed")
	}
	return nil
}

// keep selects the events worth reading: the narration, the skeleton and
// its file and node, the URBs, probe and unbind of the interface, the devres
// actions, the revoke and its grace period, the allocations and frees, and
// the moments a task had to wait.
func keep(e trace.Event) bool {
	if e.Func == "devtmpfs_create_node" || e.Func == "devtmpfs_delete_node" {
		return true // /dev/skel0 appears and goes
	}
	switch e.Kind {
	case trace.Note, skel.Kind, chardev.Kind, usbsim.KindFile, usbsim.KindURB,
		trace.DevresAdd, trace.DevresRelease, trace.Revoke, trace.Revocable, trace.SRCU:
		return true
	case usbsim.KindHub:
		return e.Func == "hub_port_connect" || e.Func == "usb_disconnect"
	case usbsim.KindDriver:
		// the skeleton's interface, not the root hub's
		return (e.Func == "usb_probe_interface" || e.Func == "usb_unbind_interface") &&
			!strings.Contains(e.Msg, "driver=hub")
	case env.Mem:
		return true // kmalloc and kfree
	case trace.Sched:
		return e.Func == "schedule" && strings.Contains(e.Msg, "block")
	}
	return false
}

// errno names an error by its errno, as strace would: "-ENODEV", or "0".
func errno(err error) string { return device.ErrnoName(err) }
