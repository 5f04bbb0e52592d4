package scenario

import (
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/sim"
)

// skelScenario is one registered scenario of one skeleton: its name, the
// bug exploring it must find ("" for none) and its description.
type skelScenario struct {
	variant skel.Variant
	name    string
	want    sim.BugKind
	about   string
}

// midReadScenarios are the registered MidRead scenarios: the read racing
// an unplug while the device feeds data, one per skeleton.
var midReadScenarios = []skelScenario{
	{skel.Classic, "usb-skel-classic", "",
		"A process reads the usb-skeleton device while it is unplugged and the device feeds data; the classic " +
			"driver (kref, io mutex) survives every schedule."},
	{skel.Revocable, "usb-skel-revocable", "",
		"The same race on the skeleton converted to revocable: every file operation runs inside a consumer " +
			"section, the unplug revokes the provider and waits for readers; every schedule completes."},
	{skel.Broken, "usb-skel-broken", sim.BugUseAfterFree,
		"The same race on the broken skeleton: it does its I/O after dropping the io mutex, with a bulk-in " +
			"buffer devres frees at unbind; a read racing the unplug touches freed memory: a use-after-free."},
}

// rmmodScenarios are the registered RmmodMidIO scenarios: the driver
// removed with a read and a write in flight, one per skeleton.
var rmmodScenarios = []skelScenario{
	{skel.Classic, "usb-skel-classic-rmmod", "",
		"rmmod (usb_deregister) of the usb-skeleton while the device stays plugged in, with a read and a write " +
			"in flight; the classic driver stops all I/O under its io mutex in disconnect and survives every schedule."},
	{skel.Revocable, "usb-skel-revocable-rmmod", "",
		"The same rmmod on the revocable skeleton: its disconnect revokes the provider (waiting for the file " +
			"operations inside their sections) and then kills the anchored URBs, before the USB core enables the " +
			"endpoints again; every schedule completes."},
	{skel.Broken, "usb-skel-broken-rmmod", sim.BugLeak,
		"The same rmmod on the broken skeleton: a write that checked the flag before disconnect submits its URB " +
			"to the endpoint usb_enable_interface enabled again, after the anchored URBs were killed: the URB " +
			"outlives the driver (its buffer leaks; in the kernel its completion would run in the unloaded " +
			"module). Other schedules map the bulk-in buffer devres freed (a use-after-free)."},
}

// Scenarios returns the USB skeleton scenarios, in a fixed order: MidRead
// with the "hardware" task feeding data on each skeleton, then RmmodMidIO
// on each skeleton, explored exhaustively within two preemptions per
// schedule by default. Package scenarios registers them; `drvsim explore
// NAME` runs them.
func Scenarios() []sim.Scenario {
	var out []sim.Scenario
	for _, m := range midReadScenarios {
		out = append(out, sim.Scenario{
			Name:        m.name,
			Under:       string(m.variant) + " driver",
			Description: m.about,
			Want:        sim.Prediction{Bug: m.want},
			Defaults:    sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 20000},
			New:         midReadSetup(m.variant),
		})
	}
	for _, m := range rmmodScenarios {
		out = append(out, sim.Scenario{
			Name:        m.name,
			Under:       string(m.variant) + " driver",
			Description: m.about,
			Want:        sim.Prediction{Bug: m.want},
			Defaults:    sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 20000},
			New:         rmmodSetup(m.variant),
		})
	}
	return out
}

// ScenarioOf returns the registered unplug scenario of skeleton v
// (usb-skel-broken for skel.Broken); it panics for a variant with none.
func ScenarioOf(v skel.Variant) sim.Scenario { return find(midReadScenarios, v) }

// RmmodScenarioOf returns the registered rmmod scenario of skeleton v
// (usb-skel-broken-rmmod for skel.Broken); it panics for a variant with
// none.
func RmmodScenarioOf(v skel.Variant) sim.Scenario { return find(rmmodScenarios, v) }

// find returns the registered scenario of v from table.
func find(table []skelScenario, v skel.Variant) sim.Scenario {
	for _, m := range table {
		if m.variant != v {
			continue
		}
		for _, sc := range Scenarios() {
			if sc.Name == m.name {
				return sc
			}
		}
	}
	panic("scenario: no registered scenario of " + string(v))
}

// rmmodSetup is the constructor of the RmmodMidIO scenario of v.
func rmmodSetup(v skel.Variant) func() sim.Setup {
	return func() sim.Setup {
		m := &RmmodMidIO{Variant: v}
		return sim.Setup{Run: m.Scenario, Close: m.Close}
	}
}

// midReadSetup is the constructor of the MidRead scenario of v: a MidRead
// of its own per exploration, its rigs closed with it.
func midReadSetup(v skel.Variant) func() sim.Setup {
	return func() sim.Setup {
		m := &MidRead{Variant: v, Feed: true}
		return sim.Setup{Run: m.Scenario, Close: m.Close}
	}
}
