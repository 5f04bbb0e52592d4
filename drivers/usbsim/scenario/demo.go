package scenario

import (
	"fmt"
	"io"

	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// UnplugMidRead runs MidRead for variant v once, on the schedule without
// preemptions (the reader blocks in its read, the unplug runs until it has
// to wait, and so on): deterministic, and the schedule docs/usb.md and the
// CLI demo show. The MidRead holds the run's results.
func UnplugMidRead(v skel.Variant) (*sim.Result, *MidRead) {
	m := &MidRead{Variant: v}
	return m.Run(sim.Config{Mode: sim.Exhaustive}), m
}

// HuntUseAfterFree explores MidRead (with the "device" task feeding data)
// for variant v under random schedules from seed on, at most schedules of
// them, and stops at the first failure: for skel-broken a KASAN
// use-after-free report, with the seed that replays it through
// TestHuntUseAfterFree.
func HuntUseAfterFree(v skel.Variant, seed uint64, schedules int) *sim.ExploreResult {
	m := &MidRead{Variant: v, Feed: true}
	cfg := sim.ExploreConfig{Mode: sim.Random, Schedules: schedules,
		Config: sim.Config{Seed: seed, Test: "TestHuntUseAfterFree", Pkg: "./drivers/usbsim/scenario"}}
	return m.Explore(cfg)
}

// DemoEvents keeps the events of a device's life worth reading: from the
// first hub_port_connect on, without bus notifier and uevent lines.
func DemoEvents(events []trace.Event) []trace.Event {
	var out []trace.Event
	started := false
	for _, e := range events {
		if e.Func == "hub_port_connect" {
			started = true
		}
		if !started || e.Kind == trace.Notify || e.Kind == trace.Uevent {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Demo writes the USB demo of the drvsim CLI to w: a skeleton device is
// plugged and bound to skel-revocable, a process opens it and reads, the
// device is unplugged mid-read; the trace shows the bind, the devres
// actions, the revoke waiting for the reader, -ENODEV on the next read and
// the last release. Then the same with skel-broken, explored from seed
// until the sanitizer reports the use-after-free, with the seed that
// replays it. It returns an error if either part does not end as it
// should.
func Demo(w io.Writer, seed uint64) error {
	res, m := UnplugMidRead(skel.Revocable)
	fmt.Fprintf(w, "== %s: a USB device is plugged, a process reads, the device is unplugged mid-read\n", skel.Revocable)
	fmt.Fprint(w, trace.Text(DemoEvents(res.Events)))
	fmt.Fprintf(w, "first read: %v\nnext read: %v\n%s", m.FirstErr, m.SecondErr, res)
	if res.Failed() {
		return fmt.Errorf("demo: %s failed: %s", skel.Revocable, res.Failure.Title)
	}
	fmt.Fprintf(w, "\n== %s: the same race, explored with random schedules from seed %d\n", skel.Broken, seed)
	ex := HuntUseAfterFree(skel.Broken, seed, 1000)
	fmt.Fprint(w, ex)
	if !ex.Failed() || ex.Failure.Failure.Kind != sim.BugUseAfterFree {
		return fmt.Errorf("demo: %s: no use-after-free found in %d schedules", skel.Broken, ex.Schedules)
	}
	fmt.Fprintf(w, "found with seed %d after %d schedule(s)\n", ex.Failure.Seed, ex.Schedules)
	return nil
}
