package scenario

import (
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/sim"
)

// midReadScenarios are the registered MidRead scenarios: the read racing
// an unplug while the device feeds data, one per skeleton.
var midReadScenarios = []struct {
	variant skel.Variant
	name    string
	want    sim.BugKind
	about   string
}{
	{skel.Classic, "usb-skel-classic", "",
		"A process reads the usb-skeleton device while it is unplugged and the device feeds data; the classic " +
			"driver (kref, io mutex) survives every schedule."},
	{skel.Revocable, "usb-skel-revocable", "",
		"The same race on the skeleton converted to revocable: every file operation runs inside a consumer " +
			"section, the unplug revokes the provider and waits for readers; every schedule completes."},
	{skel.Drain, "usb-skel-drain", "",
		"The same race on the skeleton whose file operations are revocable (chardev.Active): disconnect " +
			"revokes them, waiting for the read in flight; the state is freed by devres with no reference " +
			"count and no check in the operations; every schedule completes."},
	{skel.Broken, "usb-skel-broken", sim.BugUseAfterFree,
		"The same race on the broken skeleton: it does its I/O after dropping the io mutex, with a bulk-in " +
			"buffer devres frees at unbind; a read racing the unplug touches freed memory: a use-after-free."},
}

// Scenarios returns the USB skeleton scenarios, in a fixed order: MidRead
// with the "device" task feeding data, on each skeleton, explored
// exhaustively within two preemptions per schedule by default. Package
// scenarios registers them; `drvsim explore NAME` runs them.
func Scenarios() []sim.Scenario {
	out := make([]sim.Scenario, len(midReadScenarios))
	for i, m := range midReadScenarios {
		out[i] = sim.Scenario{
			Name:        m.name,
			Under:       string(m.variant) + " driver",
			Description: m.about,
			Want:        sim.Prediction{Bug: m.want},
			Defaults:    sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 20000},
			New:         midReadSetup(m.variant),
		}
	}
	return out
}

// ScenarioOf returns the registered scenario of skeleton v (usb-skel-broken
// for skel.Broken); it panics for a variant with none.
func ScenarioOf(v skel.Variant) sim.Scenario {
	for i, m := range midReadScenarios {
		if m.variant == v {
			return Scenarios()[i]
		}
	}
	panic("scenario: no registered scenario of " + string(v))
}

// midReadSetup is the constructor of the MidRead scenario of v: a MidRead
// of its own per exploration, its rigs closed with it.
func midReadSetup(v skel.Variant) func() sim.Setup {
	return func() sim.Setup {
		m := &MidRead{Variant: v, Feed: true}
		return sim.Setup{Run: m.Scenario, Close: m.Close}
	}
}
