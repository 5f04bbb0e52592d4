package scenario

import (
	"fmt"
	"io"
	"strings"

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

// HuntUseAfterFree explores MidRead (with the "hardware" task feeding data)
// for variant v under random schedules from seed on, at most schedules of
// them, and stops at the first failure: for skel-broken a KASAN
// use-after-free report, with the seed that replays it through
// TestHuntUseAfterFree.
func HuntUseAfterFree(v skel.Variant, seed uint64, schedules int) *sim.ExploreResult {
	sc := ScenarioOf(v)
	cfg := sim.ExploreConfig{Mode: sim.Random, Schedules: schedules,
		Config: sim.Config{Seed: seed, Test: "TestHuntUseAfterFree", Pkg: "./drivers/usbsim/scenario"}}
	return sc.Explore(cfg).ExploreResult
}

// HuntSchedules bounds the random schedules the demo explores for the
// broken skeleton's use-after-free.
const HuntSchedules = 1000

// DemoEvents keeps the events of a device's life worth reading: from the
// first hub_port_connect on, without bus notifier and uevent lines.
func DemoEvents(events []trace.Event) []trace.Event {
	return demoEventsFrom(events, "hub_port_connect")
}

// demoEventsFrom is DemoEvents starting at the first event whose Func is
// start.
func demoEventsFrom(events []trace.Event, start string) []trace.Event {
	var out []trace.Event
	started := false
	for _, e := range events {
		if e.Func == start {
			started = true
		}
		if !started || e.Kind == trace.Notify || e.Kind == trace.Uevent {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Phase is one narrated step of a demo: a short heading, the trace events
// that show it (possibly none) and lines of text that follow them (results,
// a sanitizer report, a replay command; possibly none). A renderer numbers
// the phases and prints the heading, the events and the notes in that
// order.
type Phase struct {
	// Heading says in a line what happens, e.g. "plug: the hub finds a
	// device".
	Heading string
	// Events are the trace events of the phase, in trace order.
	Events []trace.Event
	// Notes are preformatted lines printed after the events.
	Notes []string
}

// Marker starts a phase in SplitPhases: the phase begins at the first
// event, at or after the start of the phase before it, that Match accepts.
type Marker struct {
	// Heading is the heading of the phase the marker starts.
	Heading string
	// Match recognises the phase's first event, by its Func (and, where
	// one Func is not enough, its task or message).
	Match func(trace.Event) bool
}

// funcIs returns a Marker match for events whose Func is one of names.
func funcIs(names ...string) func(trace.Event) bool {
	return func(e trace.Event) bool {
		for _, n := range names {
			if e.Func == n {
				return true
			}
		}
		return false
	}
}

// SplitPhases cuts events into one phase per marker, in marker order: a
// phase runs from the event its marker matched to the event before the
// next phase's. Events before the first match are dropped. A marker that
// matches nothing (after the previous phase's start) gives an empty phase,
// and the phases after it are searched from the same point.
func SplitPhases(events []trace.Event, markers []Marker) []Phase {
	starts := make([]int, len(markers))
	from := 0
	for i, m := range markers {
		starts[i] = -1
		for j := from; j < len(events); j++ {
			if m.Match(events[j]) {
				starts[i], from = j, j
				break
			}
		}
	}
	phases := make([]Phase, len(markers))
	for i, m := range markers {
		phases[i].Heading = m.Heading
		if starts[i] < 0 {
			continue
		}
		end := len(events)
		for _, s := range starts[i+1:] {
			if s >= 0 {
				end = s
				break
			}
		}
		phases[i].Events = events[starts[i]:end]
	}
	return phases
}

// unplugMarkers are the phases of the skel-revocable story, found from the
// events of the run without preemptions.
var unplugMarkers = []Marker{
	{"plug: the hub finds a device on port 1, the USB core configures it and probes skel-revocable on its interface",
		funcIs("hub_port_connect")},
	{"probe registers devres actions (skel_free_hw, the provider's revoke); the core binds",
		funcIs("devm_add_action")},
	{"a process opens /dev/skel0 and reads; the read waits for the URB",
		funcIs("revocable_init", "chrdev_open")},
	{"unplug: usb_disconnect unbinds the interface: the URB is terminated, then skel_disconnect gives the minor back and runs the provider's revoke now (devm_release_action)",
		funcIs("hub_port_connect_change")},
	{"revoke waits for the reader (synchronize_srcu); the read returns -ENODEV and the process waits for the remove uevent that says the device is gone; the grace period ends, disconnect returns, devres_release_all frees the hardware state",
		funcIs("revocable_provider_revoke")},
	{"the interface is released, usb_disconnect deletes the device; a new open gets -ENOENT: the node is gone",
		funcIs("device_release")},
	{"the reader gets -ENODEV on its next read and ioctl; its close is the last release and frees the provider",
		funcIs("vfs_read")},
}

// DemoStory is the USB demo of the drvsim CLI, run and cut into phases.
type DemoStory struct {
	// Phases are the story's steps, in order.
	Phases []Phase
	// Hunt is the exploration of skel-broken: Hunt.Failure is the failing
	// run, and its Seed replays it.
	Hunt *sim.ExploreResult
	// HuntScenario is the registered scenario Hunt explored
	// (usb-skel-broken), the one `drvsim explore` replays the failure of.
	HuntScenario string
}

// RunDemo runs the USB demo of the drvsim CLI and returns it as phases:
// a skeleton device is plugged and bound to skel-revocable, a process
// opens it and reads, the device is unplugged mid-read; the trace shows
// the bind, the devres actions, the revoke waiting for the reader, -ENODEV
// on the next read and the last release. Then the same story with
// skel-broken, explored with random schedules from seed until the
// sanitizer reports the use-after-free: the failing schedule's trace and
// the report. Hunt.Failure.Seed replays that run (the drvsim command ends
// the story with its own command for it). The phases are found from the
// events, so the same seed gives the same phases on every run. It returns
// an error if either part does not end as it should.
func RunDemo(seed uint64) (*DemoStory, error) {
	res, m := UnplugMidRead(skel.Revocable)
	if res.Failed() {
		return nil, fmt.Errorf("demo: %s failed: %s", skel.Revocable, res.Failure.Title)
	}
	phases := SplitPhases(DemoEvents(res.Events), unplugMarkers)
	for _, p := range phases {
		if len(p.Events) == 0 {
			return nil, fmt.Errorf("demo: %s: no events for phase %q", skel.Revocable, p.Heading)
		}
	}
	last := &phases[len(phases)-1]
	last.Notes = []string{
		fmt.Sprintf("first read: %v", m.FirstErr),
		fmt.Sprintf("next read: %v", m.SecondErr),
		strings.TrimSuffix(res.String(), "\n"),
	}

	ex := HuntUseAfterFree(skel.Broken, seed, HuntSchedules)
	if !ex.Failed() || ex.Failure.Failure.Kind != sim.BugUseAfterFree {
		return nil, fmt.Errorf("demo: %s: no use-after-free found in %d schedules", skel.Broken, ex.Schedules)
	}
	f := ex.Reported() // the minimal failing run, as drvsim explore reports it
	summary, _, _ := strings.Cut(ex.String(), "\n")
	header, _, _ := strings.Cut(f.String(), "\n")
	phases = append(phases,
		Phase{
			Heading: fmt.Sprintf("the same story with %s (I/O outside the io mutex, a devm-freed buffer) and a third task, "+
				"hardware, the device sending data: random schedules from seed %d", skel.Broken, seed),
			Notes: []string{summary, header},
		},
		Phase{
			Heading: "the failing schedule, from the unplug on",
			Events:  demoEventsFrom(f.Events, "hub_port_connect_change"),
		},
		Phase{
			Heading: "the sanitizer's report",
			Notes: []string{
				strings.TrimSuffix(f.Failure.String(), "\n"),
				"schedule:",
				strings.TrimSuffix(f.ScheduleText(), "\n"),
			},
		},
	)
	return &DemoStory{Phases: phases, Hunt: ex, HuntScenario: ScenarioOf(skel.Broken).Name}, nil
}

// WritePhases writes phases to w as text: each heading as "== N. heading",
// then its events (trace.Text) and its notes, with a blank line between
// phases.
func WritePhases(w io.Writer, phases []Phase) error {
	var b strings.Builder
	for i, p := range phases {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "== %d. %s\n", i+1, p.Heading)
		b.WriteString(trace.Text(p.Events))
		for _, n := range p.Notes {
			b.WriteString(n)
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Demo writes the USB demo of the drvsim CLI to w as narrated text: the
// phases of RunDemo, each under a short numbered heading. It returns an
// error if either part of the story does not end as it should.
func Demo(w io.Writer, seed uint64) error {
	st, err := RunDemo(seed)
	if err != nil {
		return err
	}
	return WritePhases(w, st.Phases)
}
