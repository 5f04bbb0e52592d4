package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/lifecycle"
	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// exploreScenario is one scenario `drvsim explore` runs: a design-lab
// experiment (revocable/kernelmodel), a USB skeleton unplugged mid-read
// (drivers/usbsim/scenario) or a driver-core lifecycle race (lifecycle).
type exploreScenario struct {
	name  string
	under string // what runs: "merged design", "skel-broken driver", "driver core"
	about string
	// want is the kind of bug exploration must find; "" for none.
	want sim.BugKind
	// preemptions is the default preemption bound in exhaustive mode
	// (0: none).
	preemptions int
	// setup returns the scenario function for one exploration and what
	// to call after it.
	setup func() (run func(*sim.Sim), done func())
}

// usbBrokenScenario is the explore scenario of the usb-unplug demo's
// broken driver: the demo's replay command names it.
const usbBrokenScenario = "usb-skel-broken"

// exploreScenarios returns the scenarios: the design lab's, the USB
// ones, then the driver core's.
func exploreScenarios() []exploreScenario {
	var out []exploreScenario
	for _, sc := range kernelmodel.Scenarios() {
		out = append(out, exploreScenario{
			name: sc.Name, under: string(sc.Design) + " design", about: sc.Description, want: sc.Want,
			setup: func() (func(*sim.Sim), func()) { return sc.Run, func() {} },
		})
	}
	usb := func(name string, v skel.Variant, want sim.BugKind, about string) exploreScenario {
		return exploreScenario{
			name: name, under: string(v) + " driver", about: about, want: want, preemptions: 2,
			setup: func() (func(*sim.Sim), func()) {
				m := &scenario.MidRead{Variant: v, Feed: true}
				return m.Scenario, m.Close
			},
		}
	}
	out = append(out,
		usb("usb-skel-classic", skel.Classic, "",
			"A process reads the usb-skeleton device while it is unplugged and the device feeds data; the classic "+
				"driver (kref, io mutex) survives every schedule."),
		usb("usb-skel-revocable", skel.Revocable, "",
			"The same race on the skeleton converted to revocable: every file operation runs inside a consumer "+
				"section, the unplug revokes the provider and waits for readers; every schedule completes."),
		usb(usbBrokenScenario, skel.Broken, sim.BugUseAfterFree,
			"The same race on the broken skeleton: it does its I/O after dropping the io mutex, with a bulk-in "+
				"buffer devres frees at unbind; a read racing the unplug touches freed memory: a use-after-free."),
	)
	for _, sc := range lifecycle.Scenarios() {
		out = append(out, exploreScenario{
			name: sc.Name, under: "driver core", about: sc.Description,
			setup: func() (func(*sim.Sim), func()) {
				o := &lifecycle.Outcomes{}
				return sc.New(o), o.Close
			},
		})
	}
	return out
}

// lookupScenario returns the explore scenario named name.
func lookupScenario(name string) (exploreScenario, bool) {
	for _, sc := range exploreScenarios() {
		if sc.name == name {
			return sc, true
		}
	}
	return exploreScenario{}, false
}

// exploreUsage is the usage text of `drvsim explore`; the flag defaults
// and the scenario list follow it.
const exploreUsage = `usage: drvsim explore [flags] SCENARIO

Runs SCENARIO under many schedules of the deterministic scheduler and stops
at the first failing one, which it reports with the command that replays
it. The status is 0 when the outcome is the one the scenario predicts (a
bug where one is expected, none where none is), 1 otherwise, 2 on bad usage.

flags:
`

func exploreHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, exploreUsage)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nscenarios:")
	for _, s := range exploreScenarios() {
		fmt.Fprintf(w, "  %-24s %s\n", s.name, s.about)
	}
}

// runExplore is `drvsim explore`: one scenario under the explorer. The run
// fails (status 1) when the outcome differs from what the scenario
// predicts: a bug where none is expected, or none where one is.
func runExplore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "first seed (random and pct modes)")
	mode := fs.String("mode", "exhaustive", "random, pct or exhaustive")
	n := fs.Int("schedules", 20000, "bound on the number of schedules")
	preempt := fs.Int("preemptions", 0, "preemption bound in exhaustive mode (0: none; the usb-* scenarios default to 2)")
	schedule := fs.String("schedule", "", "replay this one schedule (task names, as a failure report's replay command gives it)")
	format := formatFlag(fs)
	pos, status := parseFlags(fs, args, stdout, stderr, exploreHelp)
	if status >= 0 {
		return status
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "drvsim: explore needs one scenario name")
		exploreHelp(stderr, fs)
		return 2
	}
	sc, ok := lookupScenario(pos[0])
	if !ok {
		fmt.Fprintf(stderr, "drvsim: no scenario %q\n", pos[0])
		exploreHelp(stderr, fs)
		return 2
	}
	f, err := trace.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "drvsim: %v\n", err)
		exploreHelp(stderr, fs)
		return 2
	}
	var m sim.Mode
	switch *mode {
	case "random":
		m = sim.Random
	case "pct":
		m = sim.PCT
	case "exhaustive":
		m = sim.Exhaustive
	default:
		fmt.Fprintf(stderr, "drvsim: unknown mode %q (random, pct, exhaustive)\n", *mode)
		exploreHelp(stderr, fs)
		return 2
	}
	cfg := sim.ExploreConfig{
		Config:         sim.Config{Seed: *seed},
		Mode:           m,
		Schedules:      *n,
		MaxPreemptions: sc.preemptions,
	}
	if flagSet(fs, "preemptions") {
		cfg.MaxPreemptions = *preempt
	}
	if *schedule != "" {
		if cfg.Replay, err = sim.ParseSchedule(*schedule); err == nil && len(cfg.Replay) == 0 {
			err = errors.New("no task names")
		}
		if err != nil {
			fmt.Fprintf(stderr, "drvsim: bad -schedule %q: %v\n", *schedule, err)
			exploreHelp(stderr, fs)
			return 2
		}
	}
	// A progress line on stderr, when stdout is a terminal (and stderr
	// too: it writes there), erased before the report.
	progress := &progressLine{w: stderr, name: sc.name}
	if writesToTerminal(stdout) && writesToTerminal(stderr) {
		cfg.Progress = progress.update
	}
	run, done := sc.setup()
	res := sim.Explore(cfg, run)
	done()
	progress.clear()
	return reportExplore(sc, res, f, stdout, stderr)
}

// reportExplore writes the outcome of an exploration in format f and
// returns the status: 0 as predicted, 1 otherwise.
func reportExplore(sc exploreScenario, res *sim.ExploreResult, f trace.Format, stdout, stderr io.Writer) int {
	s := newStory(f, stdout, stderr)
	heading := fmt.Sprintf("%s (%s): %s", sc.name, sc.under, sc.about)
	summary := res.String()
	if res.Failed() {
		hint := "replay: " + res.Failure.ReplayHint() + "\n"
		summary = strings.Replace(summary, hint, "replay: "+replayCommand(sc.name, res.Failure)+"\n", 1)
	}
	if f == trace.FormatText {
		// As sim prints it: the summary, the report, the end of the
		// schedule and of the trace, and the replay command.
		s.section(heading)
		s.notes(strings.TrimSuffix(summary, "\n"))
	} else {
		if f == trace.FormatMermaid {
			s.title("drvsim explore "+sc.name, fmt.Sprintf("On the %s: %s", sc.under, sc.about))
		} else {
			s.section(heading)
		}
		first, _, _ := strings.Cut(summary, "\n")
		s.section("outcome")
		s.notes(first)
		if res.Failed() {
			r := res.Failure
			s.section("the failing run's trace")
			s.events(r.Events)
			s.section("the report")
			s.notes(strings.TrimSuffix(r.Failure.String(), "\n"), "schedule:", strings.TrimSuffix(r.ScheduleText(), "\n"))
			s.section("replay")
			s.notes("replay: " + replayCommand(sc.name, r))
		}
	}
	var found sim.BugKind
	if res.Failed() {
		found = res.Failure.Failure.Kind
	}
	switch {
	case found != sc.want:
		fmt.Fprintf(stderr, "drvsim: %s: expected %s, found %s\n", sc.name, orNone(sc.want), orNone(found))
		return 1
	case found != "":
		s.verdict(fmt.Sprintf("as predicted: the %s has a %s", sc.under, found))
	default:
		s.verdict("as predicted: no schedule fails")
	}
	if s.err != nil {
		fmt.Fprintf(stderr, "drvsim: %v\n", s.err)
		return 1
	}
	return 0
}

// verdict ends an explore report: a plain line in text, a section
// otherwise.
func (s *story) verdict(line string) {
	if s.format != trace.FormatText {
		s.section("verdict")
	}
	s.notes(line)
}

func orNone(k sim.BugKind) string {
	if k == "" {
		return "no failure"
	}
	return "a " + string(k)
}

// replayCommand returns the drvsim command line that replays the failing
// run r of scenario name: its seed for a random or PCT run, its schedule
// for a forced (exhaustive) one.
func replayCommand(name string, r *sim.Result) string {
	switch {
	case r.Replayed:
		return fmt.Sprintf("drvsim explore -schedule '%s' %s", sim.FormatSchedule(r.Schedule()), name)
	case r.Mode == sim.PCT:
		// The first PCT run measures the schedule length; the seed's run
		// is the second.
		return fmt.Sprintf("drvsim explore -mode pct -seed %d -schedules 2 %s", r.Seed, name)
	default:
		return fmt.Sprintf("drvsim explore -mode random -seed %d -schedules 1 %s", r.Seed, name)
	}
}
