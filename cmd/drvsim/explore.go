package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

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
	fmt.Fprintln(w, "\nscenarios, with their default settings:")
	for _, s := range scenarios.All() {
		fmt.Fprintf(w, "  %-31s [%s] %s\n", s.Name, settings(s.Defaults), s.Description)
	}
}

// settings describes a scenario's default exploration settings:
// "exhaustive, at most 2 preemptions, 20000 schedules".
func settings(d sim.Settings) string {
	parts := []string{d.Mode.String()}
	if d.Mode == sim.Exhaustive && d.MaxPreemptions > 0 {
		parts = append(parts, fmt.Sprintf("at most %d preemptions", d.MaxPreemptions))
	}
	parts = append(parts, fmt.Sprintf("%d schedules", d.Schedules))
	return strings.Join(parts, ", ")
}

// runExplore is `drvsim explore`: one scenario under the explorer. The run
// fails (status 1) when the outcome differs from what the scenario
// predicts: a bug where none is expected, or none where one is.
func runExplore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "first seed (random and pct modes)")
	mode := fs.String("mode", "", "random, pct or exhaustive (default: the scenario's, listed below)")
	n := fs.Int("schedules", 0, "bound on the number of schedules (default: the scenario's, listed below)")
	preempt := fs.Int("preemptions", 0, "preemption bound in exhaustive mode, 0 for none (default: the scenario's, listed below)")
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
	sc, ok := scenarios.Lookup(pos[0])
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
	// The scenario's defaults, unless a flag says otherwise.
	cfg := sc.Config()
	cfg.Seed = *seed
	if flagSet(fs, "mode") {
		switch *mode {
		case "random":
			cfg.Mode = sim.Random
		case "pct":
			cfg.Mode = sim.PCT
		case "exhaustive":
			cfg.Mode = sim.Exhaustive
		default:
			fmt.Fprintf(stderr, "drvsim: unknown mode %q (random, pct, exhaustive)\n", *mode)
			exploreHelp(stderr, fs)
			return 2
		}
	}
	if flagSet(fs, "schedules") {
		cfg.Schedules = *n
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
	progress := &progressLine{w: stderr, name: sc.Name}
	if writesToTerminal(stdout) && writesToTerminal(stderr) {
		cfg.Progress = progress.update
	}
	res := sc.Explore(cfg)
	progress.clear()
	return reportExplore(sc, res, f, stdout, stderr)
}

// reportExplore writes the outcome of an exploration in format f and
// returns the status: 0 as predicted, 1 otherwise.
func reportExplore(sc sim.Scenario, res *sim.ScenarioResult, f trace.Format, stdout, stderr io.Writer) int {
	s := newStory(f, stdout, stderr)
	heading := fmt.Sprintf("%s (%s): %s", sc.Name, sc.Under, sc.Description)
	summary := res.String()
	if res.Failed() {
		hint := "replay: " + res.Failure.ReplayHint() + "\n"
		summary = strings.Replace(summary, hint, "replay: "+replayCommand(sc.Name, res.Failure)+"\n", 1)
	}
	if f == trace.FormatText {
		// As sim prints it: the summary, the report, the end of the
		// schedule and of the trace, and the replay command.
		s.section(heading)
		s.notes(strings.TrimSuffix(summary, "\n"))
	} else {
		if f == trace.FormatMermaid {
			s.title("drvsim explore "+sc.Name, fmt.Sprintf("On the %s: %s", sc.Under, sc.Description))
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
			s.notes("replay: " + replayCommand(sc.Name, r))
		}
	}
	switch err := sc.Check(res); {
	case err != nil:
		fmt.Fprintf(stderr, "drvsim: %s: %v\n", sc.Name, err)
		return 1
	case res.Failed():
		s.verdict(fmt.Sprintf("as predicted: the %s has a %s", sc.Under, res.Failure.Failure.Kind))
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
