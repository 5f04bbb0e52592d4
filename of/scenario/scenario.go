// Package scenario holds the device-tree scenarios the explorer checks:
// platform hot-plug through overlays and fw_devlink's device links under
// every interleaving. Each builds a machine with package board's drivers
// on a small device tree, starts the racing tasks, and checks at the end
// of every run that the machine is consistent and which way the run ended.
// Scenarios declares them; package scenarios registers them.
package scenario

import (
	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/sim"
)

// Ending is one way a run may end consistently.
type Ending string

// The endings.
const (
	// ReadThenGone: the reader's first read found the sensor, the read
	// after the overlay's removal -ENODEV.
	ReadThenGone Ending = "read a sample, then -ENODEV"
	// GoneTwice: the removal revoked the sensor before the first read.
	GoneTwice Ending = "-ENODEV twice: removed before the first read"
	// ProbedThenUnbound: the consumer bound, then the supplier's unbind
	// unbound it first.
	ProbedThenUnbound Ending = "consumer probed, then unbound before its supplier"
	// DeferredSupplierGone: the supplier was unbinding or unbound when the
	// consumer's probe was tried: it deferred and waits on the pending
	// list.
	DeferredSupplierGone Ending = "consumer deferred: supplier not ready"
	// NoNode: the process found no /dev/sensor0 (before the overlay, or
	// after its removal).
	NoNode Ending = "no /dev/sensor0 to open"
	// ReadWhilePlugged: the process opened and read the sensor while the
	// overlay was applied.
	ReadWhilePlugged Ending = "opened and read while plugged"
	// OpenedThenGone: the process opened the sensor, and its read came
	// after the removal: -ENODEV.
	OpenedThenGone Ending = "opened, then -ENODEV: removed before the read"
)

// declare makes a sim.Scenario of a run constructor, explored exhaustively
// within two preemptions.
func declare(name, about string, run func(o *drvsim.Runs) func(*sim.Sim), endings ...Ending) sim.Scenario {
	want := make([]string, len(endings))
	for i, e := range endings {
		want[i] = string(e)
	}
	return sim.Scenario{
		Name:        name,
		Under:       "device tree",
		Description: about,
		Want:        sim.Prediction{Endings: want},
		Defaults:    sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 20000},
		New: func() sim.Setup {
			o := &drvsim.Runs{}
			return sim.Setup{Run: run(o), Close: o.Close, Endings: o.Endings}
		},
	}
}

// Scenarios returns the device-tree scenarios, in a fixed order.
func Scenarios() []sim.Scenario {
	return []sim.Scenario{
		declare("dt-overlay-remove-open-file",
			"An overlay added a sensor below the I2C controller and a process has its /dev/sensor0 open and "+
				"reads it while the overlay is removed (of_overlay_remove: the node's device destroyed, its driver "+
				"unbound, its revocable provider revoked). Every read finds the sensor or -ENODEV, the close "+
				"succeeds, nothing touches freed memory and every allocation is freed.",
			OverlayRemoveOpenFile, ReadThenGone, GoneTwice),
		declare("dt-supplier-unbind-vs-probe",
			"The LED driver is loaded (its probe needs the GPIO controller, its supplier by an inferred "+
				"device link) while the GPIO controller is unbound through sysfs. The unbind waits for a probe "+
				"in flight and unbinds the consumer first; a probe tried once the supplier is going defers. "+
				"No run ends with the LED bound to a gone supplier.",
			SupplierUnbindVsProbe, ProbedThenUnbound, DeferredSupplierGone),
		declare("dt-overlay-hotplug-vs-open",
			"An overlay plugs a sensor in and unplugs it again (of_overlay_fdt_apply, then of_overlay_remove) "+
				"while a process opens /dev/sensor0, reads it and closes it. The open finds the node or not, the "+
				"read a sample or -ENODEV; at the end the node and its device are gone and nothing leaked.",
			OverlayHotplugVsOpen, NoNode, ReadWhilePlugged, OpenedThenGone),
		{
			Name:  "dt-overlay-remove-unsafe-sensor",
			Under: "device tree",
			Description: "The same overlay removal under an open file, with a sensor driver that keeps a plain " +
				"pointer to its chip's state from open on and reads the registers outside any read section: " +
				"a read after the removal touches the registers devres unmapped, a use-after-free.",
			Want:     sim.Prediction{Bug: sim.BugUseAfterFree},
			Defaults: sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 20000},
			New: func() sim.Setup {
				o := &drvsim.Runs{}
				return sim.Setup{Run: overlayRemove(o, true), Close: o.Close}
			},
		},
	}
}
