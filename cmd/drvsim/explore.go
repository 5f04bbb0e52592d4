package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// exploreUsage is the usage text of `drvsim explore`; the flag defaults
// and the scenario list follow it.
const exploreUsage = `usage: drvsim explore [flags] SCENARIO
       drvsim explore -merge FILE,FILE,... SCENARIO

Runs SCENARIO under many schedules of the deterministic scheduler and stops
at the first failing one, which it reports with the command that replays
it. The status is 0 when the outcome is the one the scenario predicts (a
bug where one is expected, none where none is), 1 otherwise (and when the
scenario proved nondeterministic or a replay diverged), 2 on bad usage.

-shard K/N runs the K-th of N shares of the exploration (for N processes or
machines) and -summary FILE writes its result as JSON; -merge combines the
N summaries into the verdict of the whole exploration.

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

// exploreFlags are the flags of `drvsim explore`.
type exploreFlags struct {
	seed     *uint64
	mode     *string
	n        *int
	preempt  *int
	schedule *string
	workers  *int
	shard    *string
	budget   *time.Duration
	summary  *string
	merge    *string
	format   *string
	fs       *flag.FlagSet
}

// runExplore is `drvsim explore`: one scenario under the explorer. The run
// fails (status 1) when the outcome differs from what the scenario
// predicts: a bug where none is expected, or none where one is.
func runExplore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	fl := exploreFlags{
		seed:     fs.Uint64("seed", 1, "first seed (random and pct modes only)"),
		mode:     fs.String("mode", "", "random, pct or exhaustive (default: the scenario's, listed below)"),
		n:        fs.Int("schedules", 0, "bound on the number of schedules, at least 1 (default: the scenario's, listed below)"),
		preempt:  fs.Int("preemptions", 0, "preemption bound in exhaustive mode, 0 for no bound (default: the scenario's, listed below)"),
		schedule: fs.String("schedule", "", "replay this one schedule (task names, as a failure report's replay command gives it)"),
		workers:  fs.Int("workers", 0, fmt.Sprintf("schedules run in parallel, at most %d (0: one per CPU); the counts and the failure found do not depend on it", sim.MaxWorkers)),
		shard:    fs.String("shard", "", "run only share `K/N` of the exploration (the K-th of N, for N processes or machines)"),
		budget:   fs.Duration("time", 0, "stop after this much time (e.g. 30s) with a coverage summary (0: no limit)"),
		summary:  fs.String("summary", "", "write the exploration's summary as JSON to `FILE` (for -merge)"),
		merge:    fs.String("merge", "", "merge the summaries in `FILES` (comma-separated) of every shard instead of exploring"),
		format:   formatFlag(fs),
		fs:       fs,
	}
	pos, status := parseFlags(fs, args, stdout, stderr, exploreHelp)
	if status >= 0 {
		return status
	}
	usage := func(format string, a ...any) int {
		return usageError(stderr, "explore", format, a...)
	}
	if len(pos) != 1 {
		return usage("one scenario name, got %d", len(pos))
	}
	sc, ok := scenarios.Lookup(pos[0])
	if !ok {
		return usage("no scenario %q", pos[0])
	}
	f, err := trace.ParseFormat(*fl.format)
	if err != nil {
		return usage("%v", err)
	}
	// The scenario's defaults, unless a flag says otherwise.
	cfg := sc.Config()
	cfg.Seed = *fl.seed
	cfg.Workers = *fl.workers
	cfg.Time = *fl.budget
	if flagSet(fs, "mode") {
		switch *fl.mode {
		case "random":
			cfg.Mode = sim.Random
		case "pct":
			cfg.Mode = sim.PCT
		case "exhaustive":
			cfg.Mode = sim.Exhaustive
		default:
			return usage("unknown mode %q (random, pct, exhaustive)", *fl.mode)
		}
	}
	if flagSet(fs, "schedules") {
		cfg.Schedules = *fl.n
	}
	if flagSet(fs, "preemptions") {
		cfg.MaxPreemptions = *fl.preempt
	}
	if err := validateExploreFlags(fs, cfg); err != nil {
		return usage("%v", err)
	}
	if *fl.shard != "" {
		if cfg.Shard, err = sim.ParseShard(*fl.shard); err != nil {
			return usage("-shard: %v", err)
		}
	}
	if flagSet(fs, "schedule") {
		if cfg.Replay, err = sim.ParseSchedule(*fl.schedule); err != nil {
			return usage("bad -schedule %q: %v", *fl.schedule, err)
		}
	}
	if cfg.Workers == 0 {
		cfg.Workers = sim.AllCPUs
	}
	if *fl.merge != "" {
		return mergeExplore(sc, cfg, strings.Split(*fl.merge, ","), stdout, stderr)
	}
	// A progress line on stderr, when stdout is a terminal (and stderr
	// too: it writes there), erased before the report.
	progress := &progressLine{w: stderr, name: sc.Name}
	if writesToTerminal(stdout) && writesToTerminal(stderr) {
		cfg.Progress = progress.update
	}
	res := sc.Explore(cfg)
	progress.clear()
	if *fl.summary != "" {
		if err := writeSummary(*fl.summary, res.Summary(cfg)); err != nil {
			fmt.Fprintf(stderr, "drvsim: -summary: %v\n", err)
			return 1
		}
	}
	if errors.Is(res.Err, sim.ErrUnknownTask) {
		fmt.Fprintf(stderr, "drvsim: -schedule: %v\n", res.Err)
		return 2
	}
	return reportExplore(sc, res, f, stdout, stderr)
}

// writeSummary writes a shard's summary as indented JSON.
func writeSummary(path string, s *sim.Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// mergeExplore is `drvsim explore -merge`: it combines the shards'
// summaries, prints the verdict of the whole exploration and, when it
// found a failure, replays its schedule to print the report.
func mergeExplore(sc sim.Scenario, cfg sim.ExploreConfig, files []string, stdout, stderr io.Writer) int {
	var sums []*sim.Summary
	for _, file := range files {
		b, err := os.ReadFile(strings.TrimSpace(file))
		if err != nil {
			fmt.Fprintf(stderr, "drvsim: -merge: %v\n", err)
			return 2
		}
		var s sim.Summary
		if err := json.Unmarshal(b, &s); err != nil {
			fmt.Fprintf(stderr, "drvsim: -merge %s: %v\n", file, err)
			return 2
		}
		sums = append(sums, &s)
	}
	m, err := sim.MergeSummaries(sums)
	if err != nil {
		fmt.Fprintf(stderr, "drvsim: -merge: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "== %s (%s): %s\n", sc.Name, sc.Under, sc.Description)
	fmt.Fprint(stdout, m)
	if m.Untrusted != nil {
		fmt.Fprintf(stderr, "drvsim: %s: the exploration cannot be trusted: %s\n", sc.Name, m.Untrusted.Title)
		return 1
	}
	var found sim.BugKind
	if m.Failure != nil {
		found = m.Failure.Kind
		r := m.Failure
		if m.Minimal != nil {
			r = m.Minimal
		}
		fmt.Fprintf(stdout, "replay: drvsim explore -schedule '%s' %s\n", r.Schedule, sc.Name)
	}
	switch {
	case found != sc.Want.Bug:
		fmt.Fprintf(stderr, "drvsim: %s: expected %s, found %s\n", sc.Name, orNone(sc.Want.Bug), orNone(found))
		return 1
	case found != "":
		fmt.Fprintf(stdout, "as predicted: the %s has a %s\n", sc.Under, found)
	case m.Exhausted:
		fmt.Fprintln(stdout, "as predicted: no schedule fails")
	default:
		fmt.Fprintln(stdout, "as predicted so far: no schedule failed")
	}
	return 0
}

// reportExplore writes the outcome of an exploration in format f and
// returns the status: 0 as predicted, 1 otherwise.
func reportExplore(sc sim.Scenario, res *sim.ScenarioResult, f trace.Format, stdout, stderr io.Writer) int {
	s := newStory(f, stdout, stderr)
	heading := fmt.Sprintf("%s (%s): %s", sc.Name, sc.Under, sc.Description)
	summary := res.String()
	r := res.Reported()
	if r != nil && res.Trusted() {
		hint := "replay: " + r.ReplayHint() + "\n"
		summary = strings.Replace(summary, hint, "replay: "+replayCommand(sc.Name, r)+"\n", 1)
		first := "found first: " + res.Failure.ReplayHint() + "\n"
		summary = strings.Replace(summary, first, "found first: "+replayCommand(sc.Name, res.Failure)+"\n", 1)
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
		if r != nil {
			s.section("the failing run's trace")
			s.events(r.Events)
			s.section("the report")
			s.notes(strings.TrimSuffix(r.Failure.String(), "\n"), "schedule:", strings.TrimSuffix(r.ScheduleText(), "\n"))
			if res.Trusted() {
				s.section("replay")
				s.notes("replay: " + replayCommand(sc.Name, r))
			}
		}
	}
	if !res.Trusted() {
		fmt.Fprintf(stderr, "drvsim: %s: %s\n", sc.Name, untrusted(res.ExploreResult))
		return 1
	}
	var found sim.BugKind
	if r != nil {
		found = r.Failure.Kind
	}
	if res.Replay && found == "" {
		s.verdict("the replayed schedule passes")
		return s.status(stderr)
	}
	if err := sc.Check(res); err != nil {
		fmt.Fprintf(stderr, "drvsim: %s: %v\n", sc.Name, err)
		return 1
	}
	switch {
	case found != "":
		s.verdict(fmt.Sprintf("as predicted: the %s has a %s", sc.Under, found))
	case res.Exhausted:
		s.verdict("as predicted: no schedule fails")
	default:
		s.verdict(fmt.Sprintf("as predicted so far: no schedule failed (the %s bound ran out first)", res.Stopped))
	}
	return s.status(stderr)
}

// untrusted says why an exploration's result cannot be trusted.
func untrusted(res *sim.ExploreResult) string {
	switch k := res.Failure.Failure.Kind; k {
	case sim.BugReplay:
		return "the replay diverged: nothing was found"
	case sim.BugNondeterminism:
		return "the scenario is nondeterministic: no verdict"
	default:
		return string(k) + ": no verdict"
	}
}

// status is the exit status once the report is written: 1 when writing it
// failed (reported on stderr), 0 otherwise.
func (s *story) status(stderr io.Writer) int {
	if s.err != nil {
		fmt.Fprintf(stderr, "drvsim: %v\n", s.err)
		return 1
	}
	return 0
}

// orNone names a bug kind for a verdict: "a deadlock", or "no failure".
func orNone(k sim.BugKind) string {
	if k == "" {
		return "no failure"
	}
	return "a " + string(k)
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
// for a forced (exhaustive) one; a run that failed before its first choice
// fails in any schedule, the first one of a search.
func replayCommand(name string, r *sim.Result) string {
	switch {
	case r.Replayed && len(r.Schedule()) == 0:
		return fmt.Sprintf("drvsim explore -schedules 1 %s", name)
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
