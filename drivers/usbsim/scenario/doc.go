// Package scenario holds the USB lifecycle scenarios of drvsim as
// functions that build a fresh simulated machine, run, and return what
// happened: the entry points of the drvsim CLI's USB demo and of the
// lifecycle tests.
//
// A Rig is one machine: a driver core, the USB core on it (with the USB
// character major), a host controller and one skeleton driver. MidRead
// is scenario 2 of docs/usb.md (a read in flight when the device is
// unplugged), runnable once (Run, with a seed) or under exploration
// (Explore). RmmodMidIO is the driver removed (usb_deregister) while the
// device stays plugged in, with a read and a write in flight. Scenarios
// declares both on each skeleton as the sim.Scenario values package
// scenarios registers (usb-skel-classic, usb-skel-revocable,
// usb-skel-broken; usb-skel-classic-rmmod, usb-skel-revocable-rmmod,
// usb-skel-broken-rmmod). RunDemo runs the CLI's usb-unplug demo, whose
// second part hunts usb-skel-broken's use-after-free, and cuts its trace
// into narrated phases (SplitPhases); Demo prints them. RunRmmodDemo is
// the usb-rmmod demo.
package scenario
