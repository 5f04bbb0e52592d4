package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/drvsim/drvsim/devres"
	udlscenario "github.com/drvsim/drvsim/drivers/drmsim/udlsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// demo is one narrated story.
type demo struct {
	name, about string
	run         func(s *story) error
}

// demoSeed is the first seed the usb-unplug demo explores from for the
// broken driver, fixed so its output is the same on every run.
const demoSeed = 1

// defaultDemo is the demo `drvsim` runs without arguments.
const defaultDemo = "usb-unplug"

// demos is the registry of `drvsim demo`, in the order the list shows.
var demos = []demo{
	{"usb-unplug", "a USB device unplugged mid-read: the revocable skeleton, then the broken one and its use-after-free", demoUSB},
	{"usb-rmmod", "a USB driver removed with a read and a write in flight: the classic and revocable skeletons, then the broken one", demoUSBRmmod},
	{"probe-failure", "a probe takes three devm resources and fails: really_probe's error path releases them newest first", demoProbeFailure},
	{"deferred-probe", "a consumer defers until its supplier binds and is retried; at the timeout, optional dependencies are given up", demoDeferredProbe},
	{"device-links", "a device link: the consumer waits for its supplier, and unbinding the supplier unbinds the consumer first", demoDeviceLinks},
	{"drm-unplug", "a DisplayLink-like USB display unplugged while a flush is in flight (drm_dev_unplug)", demoDRM},
	{"devres", "managed resources released newest first at unbind (devres_release_all)", demoDevres},
}

// lookupDemo returns the demo named name.
func lookupDemo(name string) (demo, bool) {
	for _, d := range demos {
		if d.name == name {
			return d, true
		}
	}
	return demo{}, false
}

func listDemos(w io.Writer) {
	fmt.Fprintln(w, "demos:")
	for _, d := range demos {
		fmt.Fprintf(w, "  %-15s %s\n", d.name, d.about)
	}
}

// runDemo runs demo d in format f. A demo that does not end as it should
// (a sanitizer report where none is expected, a missing one) is status 1.
func runDemo(d demo, f trace.Format, stdout, stderr io.Writer) int {
	s := newStory(f, stdout, stderr)
	s.title("drvsim demo "+d.name, d.about)
	err := d.run(s)
	if err == nil {
		err = s.err
	}
	if err != nil {
		fmt.Fprintf(stderr, "drvsim: demo %s: %v\n", d.name, err)
		return 1
	}
	return 0
}

// usbLegend opens the default demo: how to read its trace lines, every
// part of them.
var usbLegend = []string{
	"Each trace line: sequence number, [task], kernel function, object, what happened.",
	"Tasks are simulated threads: reader is the process that has the file open,",
	"unplug the hub's thread that handles the pulled cable and, from step 8 on,",
	"hardware the USB device sending data; a line without a task is set-up, run",
	"before they start. \"schedule: ... -> T\" is the simulator handing the CPU",
	"to task T: when the tasks start, at a lock or another point where the kernel",
	"may switch tasks, when a task must wait (\"block\", and what for) or when it",
	"ends (\"exit\", after do_exit). The numbers skip what is left out here: the",
	"machine's boot, bus notifier calls and uevents.",
}

// demoUSB is the default demo: how to read it, scenario.RunDemo's phases,
// then the drvsim command that replays the broken driver's failure.
func demoUSB(s *story) error {
	st, err := scenario.RunDemo(demoSeed)
	if err != nil {
		return err
	}
	s.legend(usbLegend...)
	s.phases(st.Phases)
	s.replay(st.HuntScenario, st.Hunt.Failure)
	return nil
}

// demoUSBRmmod is scenario.RunRmmodDemo, with the command that replays the
// broken driver's failure added to its last phase.
func demoUSBRmmod(s *story) error {
	st, err := scenario.RunRmmodDemo(demoSeed)
	if err != nil {
		return err
	}
	last := &st.Phases[len(st.Phases)-1]
	last.Notes = append(last.Notes, "    or: "+replayCommand(st.HuntScenario, st.Hunt.Failure))
	s.phases(st.Phases)
	return nil
}

// drmMarkers are the phases of the drm-unplug story, found from the
// events of udlscenario.UnplugDemo's run.
var drmMarkers = []scenario.Marker{
	{Heading: "plug: udl binds the adapter, drm_dev_register creates /dev/dri/card0",
		Match: funcIs("demo")},
	{Heading: "a process opens /dev/dri/card0, creates a dumb buffer and maps it",
		Match: funcIs("drm_dev_get")},
	{Heading: "the cable is pulled while the process flushes: drm_dev_unplug waits for the flush's drm_dev_enter section",
		Match: funcIs("usb_disconnect")},
	{Heading: "the flush's URB fails with -ENODEV and the flush returns; the grace period ends, the device is unregistered, its mappings zapped, and disconnect frees udl's URBs (udl_drop_usb)",
		Match: funcIs("usb_submit_urb")},
	{Heading: "devres_release_all drops the driver's reference (devm_drm_dev_init_release); the drm device lives on, held by the open file",
		Match: funcIs("devres_release_all")},
	{Heading: "after the unplug: an ioctl, a store through the mapping and a new open fail",
		Match: func(e trace.Event) bool { return e.Func == "drm_ioctl" && strings.Contains(e.Msg, "VERSION") }},
	{Heading: "close drops the last reference: drm_dev_release runs the drmm actions, the drm device is freed",
		Match: funcIs("drm_release")},
}

// funcIs returns a Marker match for events whose Func is fn.
func funcIs(fn string) func(trace.Event) bool {
	return func(e trace.Event) bool { return e.Func == fn }
}

// demoDRM runs the DRM unplug story. The demo's own notes (what a task is
// about to do) stay in the trace; a note just before a phase's first
// event, from the same task, opens that phase.
func demoDRM(s *story) error {
	res, err := udlscenario.UnplugDemo()
	if err != nil {
		return err
	}
	phases := scenario.SplitPhases(res.Events(), drmMarkers)
	for i := range phases[:len(phases)-1] {
		p, next := &phases[i], &phases[i+1]
		n := len(p.Events)
		if n > 1 && len(next.Events) > 0 && p.Events[n-1].Kind == trace.Note && p.Events[n-1].Task == next.Events[0].Task {
			next.Events = append([]trace.Event{p.Events[n-1]}, next.Events...)
			p.Events = p.Events[:n-1]
		}
	}
	for _, p := range phases {
		if len(p.Events) == 0 {
			return fmt.Errorf("no events for phase %q", p.Heading)
		}
	}
	if len(res.AfterErrs) != 3 {
		return fmt.Errorf("%d results after the unplug, want 3", len(res.AfterErrs))
	}
	phases[len(phases)-1].Notes = []string{
		fmt.Sprintf("the flush: %v", res.FlushErr),
		fmt.Sprintf("ioctl after the unplug: %v", res.AfterErrs[0]),
		fmt.Sprintf("store through the mapping: %v", res.AfterErrs[1]),
		fmt.Sprintf("open after the unplug: %v", res.AfterErrs[2]),
	}
	s.phases(phases)
	return nil
}

// demoDevres tells the story of managed resources released in reverse.
func demoDevres(s *story) error {
	e := env.New()
	log := e.Log()
	l := devres.NewList("/sys/devices/platform/serial0")
	l.Attach(e)
	s.step("a driver acquires three resources with devm_* helpers")
	for _, n := range []string{"clk_disable_unprepare", "free_irq", "iounmap"} {
		if _, err := l.Add(n, func() {}); err != nil {
			return err
		}
	}
	s.events(log.Events())
	seq := log.Seq()
	s.step("the device is unbound: devres_release_all runs them newest first")
	l.ReleaseAll()
	s.events(log.Since(seq))
	return nil
}
