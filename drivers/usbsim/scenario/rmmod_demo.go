package scenario

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// RmmodMidIOOnce runs RmmodMidIO for variant v once, on the schedule
// without preemptions (each task runs until it has to wait): the schedule
// the rmmod demo shows.
func RmmodMidIOOnce(v skel.Variant) (*sim.Result, *RmmodMidIO) {
	m := &RmmodMidIO{Variant: v}
	return m.Run(sim.Config{Mode: sim.Exhaustive}), m
}

// HuntRmmod explores the registered rmmod scenario of variant v
// (RmmodScenarioOf) under random schedules from seed on, at most
// schedules of them, and stops at the first failure, with the seed that
// replays it through TestHuntRmmod.
func HuntRmmod(v skel.Variant, seed uint64, schedules int) *sim.ExploreResult {
	sc := RmmodScenarioOf(v)
	cfg := sim.ExploreConfig{Mode: sim.Random, Schedules: schedules,
		Config: sim.Config{Seed: seed, Test: "TestHuntRmmod", Pkg: "./drivers/usbsim/scenario"}}
	return sc.Explore(cfg).ExploreResult
}

// afterRmmod matches the first event once rmmod is over: its task's exit.
func afterRmmod(e trace.Event) bool { return e.Func == "do_exit" && e.Task == "rmmod" }

// rmmodMarkers are the phases of the rmmod story of each correct
// skeleton, found from the events of its run without preemptions.
var rmmodMarkers = map[skel.Variant][]Marker{
	skel.Classic: {
		{"skel-classic: two processes open /dev/skel0; the read holds the io mutex while its URB waits for data, the write waits for the io mutex",
			funcIs("chrdev_open")},
		{"rmmod: usb_deregister unbinds the interface with the device still plugged in: usb_disable_interface terminates the read's URB, then skel_disconnect gives the minor back and waits for the io mutex",
			funcIs("usb_deregister")},
		{"the read returns -ENODEV and drops the io mutex; the write takes it, and the disabled endpoint refuses its URB (-ENOENT): -ENODEV",
			funcIs("vfs_read")},
		{"skel_disconnect sets disconnected and kills the anchored URBs (none); usb_enable_interface enables the endpoints again for the next driver; the node is gone",
			func(e trace.Event) bool { return e.Task == "rmmod" }},
		{"after rmmod: a read and a write return -ENODEV (disconnected); the last close frees the state (skel_delete)",
			afterRmmod},
	},
	skel.Revocable: {
		{"skel-revocable: two processes open /dev/skel0, a consumer each; the read waits for data inside its read section, the write's URB is submitted and NAKed",
			funcIs("revocable_init")},
		{"rmmod: usb_deregister unbinds the interface with the device still plugged in: usb_disable_interface terminates both URBs, then skel_disconnect gives the minor back and runs the provider's revoke now (devm_release_action)",
			funcIs("usb_deregister")},
		{"the revoke waits for the reader inside its section (synchronize_srcu); the read returns -ENODEV",
			funcIs("revocable_provider_revoke")},
		{"the grace period is over: skel_disconnect kills the anchored URBs (none left) and returns; the endpoints are enabled again, but no file operation reaches the hardware any more; devres frees it",
			funcIs("skel_disconnect")},
		{"after rmmod: a read and a write return -ENODEV (revoked); the last close releases the provider",
			afterRmmod},
	},
}

// RmmodDemoStory is the rmmod demo of the drvsim CLI, run and cut into
// phases.
type RmmodDemoStory struct {
	// Phases are the story's steps, in order.
	Phases []Phase
	// Hunt is the exploration of skel-broken's rmmod scenario:
	// Hunt.Failure is the failing run, and its Seed replays it.
	Hunt *sim.ExploreResult
	// HuntScenario is the registered scenario Hunt explored
	// (usb-skel-broken-rmmod).
	HuntScenario string
}

// RunRmmodDemo runs the rmmod demo of the drvsim CLI and returns it as
// phases: for the classic skeleton, then the revocable one, a device is
// plugged and bound, two processes open it, one reads (the device has no
// data) and one writes (the device NAKs), and the driver is removed
// (usb_deregister) while the device stays plugged in; the trace shows how
// each stops its I/O before the USB core enables the endpoints again, and
// -ENODEV afterwards. Then skel-broken's rmmod scenario is explored with
// random schedules from seed until it fails: the failing schedule's trace,
// the report, and the seed that replays it. It returns an error if any
// part does not end as it should.
func RunRmmodDemo(seed uint64) (*RmmodDemoStory, error) {
	var phases []Phase
	for _, v := range []skel.Variant{skel.Classic, skel.Revocable} {
		res, m := RmmodMidIOOnce(v)
		if res.Failed() {
			return nil, fmt.Errorf("demo: %s: %s", v, res.Failure.Title)
		}
		ps := SplitPhases(DemoEvents(res.Events), rmmodMarkers[v])
		for _, p := range ps {
			if len(p.Events) == 0 {
				return nil, fmt.Errorf("demo: %s: no events for phase %q", v, p.Heading)
			}
		}
		ps[len(ps)-1].Notes = []string{
			fmt.Sprintf("read in flight: %v", m.ReadErr),
			fmt.Sprintf("write in flight: %s", writeResult(m.WriteN, m.WriteErr)),
			fmt.Sprintf("read after rmmod: %v", m.AfterReadErr),
			fmt.Sprintf("write after rmmod: %v", m.AfterWriteErr),
			strings.TrimSuffix(res.String(), "\n"),
		}
		phases = append(phases, ps...)
	}

	ex := HuntRmmod(skel.Broken, seed, HuntSchedules)
	if !ex.Failed() {
		return nil, fmt.Errorf("demo: %s: no failure found in %d schedules", skel.Broken, ex.Schedules)
	}
	f := ex.Failure
	summary, _, _ := strings.Cut(ex.String(), "\n")
	header, _, _ := strings.Cut(f.String(), "\n")
	phases = append(phases,
		Phase{
			Heading: fmt.Sprintf("the same rmmod with %s (I/O outside the io mutex, a devm-freed buffer): random schedules from seed %d",
				skel.Broken, seed),
			Notes: []string{summary, header},
		},
		Phase{
			Heading: "the failing schedule, from rmmod on",
			Events:  demoEventsFrom(f.Events, "usb_deregister"),
		},
		Phase{
			Heading: "the report",
			Notes: []string{
				strings.TrimSuffix(f.Failure.String(), "\n"),
				"schedule:",
				strings.TrimSuffix(f.ScheduleText(), "\n"),
			},
		},
		Phase{
			Heading: fmt.Sprintf("seed %d replays it", f.Seed),
			Notes:   []string{"replay: " + f.ReplayHint()},
		},
	)
	return &RmmodDemoStory{Phases: phases, Hunt: ex, HuntScenario: RmmodScenarioOf(skel.Broken).Name}, nil
}

// writeResult renders a write's result: its byte count, or its error.
func writeResult(n int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d bytes", n)
}
