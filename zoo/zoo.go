// Package zoo is drvsim's bug zoo: lifecycle bugs that shipped in Linux,
// each rebuilt from its fix commit as the driver (or core code) before
// and after the fix, in drvsim's Go with the same calls in the same
// order, and each with a scenario pair the explorer runs. The "before"
// scenario predicts the symptom the original report showed (a
// use-after-free, a NULL dereference, a hang); the "after" one predicts
// that no schedule fails, and its default exploration covers every
// schedule within two preemptions.
//
// Bugs lists them, with their commits, the race in words and the fix;
// Scenarios declares the scenario pairs, which package scenarios
// registers (`drvsim explore NAME-before`); Bug.Hunt explores both and
// Hunt.Story narrates the result, as `drvsim zoo NAME` prints it and the
// pages of docs/zoo quote it. The rebuilt drivers live in the packages
// below (zoo/skelread, zoo/iowarrior, ...); this package holds their
// machines and the tasks that race.
package zoo

import (
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/sim"
)

// Bug is one entry of the zoo.
type Bug struct {
	// Name is the bug's key, e.g. "skel-read-urb"; its scenarios are
	// Name-before and Name-after.
	Name string
	// Subsystem is where the bug lived: "USB, usb-skeleton".
	Subsystem string
	// Commit is the fix's full commit id in torvalds/linux; Subject its
	// subject line; Author its author and date.
	Commit, Subject, Author string
	// Report is the symptom the original report showed.
	Report string
	// Race is the failing interleaving, in words.
	Race string
	// Fix is what the commit changed.
	Fix string
	// Notes, when set, says where the model departs from the kernel code
	// it rebuilds, and why.
	Notes string
	// Before and After are the scenario pair; nil when the bug is not
	// reproduced yet.
	Before, After *sim.Scenario
	// Pending, for a bug not reproduced, says why and what would let
	// drvsim reproduce it; Missing says it in a few words, for tables.
	Pending, Missing string
}

// Reproduced reports whether the bug has its scenario pair.
func (b *Bug) Reproduced() bool { return b.Before != nil && b.After != nil }

// ShortCommit is the commit's first 12 hex digits, as Fixes: tags cite
// it.
func (b *Bug) ShortCommit() string { return b.Commit[:min(12, len(b.Commit))] }

// The scenario pairs' default exploration: exhaustive, at most two
// preemptions per schedule, within a budget of Schedules runs, which the
// "before" finds its bug in and the "after" exhausts its space in.
const (
	Schedules      = 20000
	MaxPreemptions = 2
)

// bugs is the zoo: the ten of ../shared/reference/bug-zoo.md in its
// order, then the ones added since.
var bugs = []func() *Bug{
	skelReadURB,
	iowarriorDisconnect,
	udlUnplugLate,
	bwctrlDevmIRQ,
	bq24190Work,
	appleirTimer,
	i2cdevCdev,
	deferralRace,
	gpiolibSRCU,
	rpmSuppliersProbe,
	ldusbUnbind,
	adutuxRelease,
}

// Bugs returns the zoo's bugs, in a fixed order. The slice and the Bugs
// are the caller's.
func Bugs() []*Bug {
	out := make([]*Bug, len(bugs))
	for i, mk := range bugs {
		out[i] = mk()
	}
	return out
}

// Lookup returns the bug named name.
func Lookup(name string) (*Bug, bool) {
	for _, b := range Bugs() {
		if b.Name == name {
			return b, true
		}
	}
	return nil, false
}

// Scenarios returns every reproduced bug's scenario pair, "before" then
// "after", in the zoo's order. Package scenarios registers them.
func Scenarios() []sim.Scenario {
	var out []sim.Scenario
	for _, b := range Bugs() {
		if b.Reproduced() {
			out = append(out, *b.Before, *b.After)
		}
	}
	return out
}

// pair declares a bug's scenario pair: run builds one run of the variant
// (fixed false: before the fix) on a System of its own, starts its tasks
// and panics on a broken setup. The "before" predicts want.
func pair(b *Bug, under string, about [2]string, want sim.BugKind, run func(s *sim.Sim, sys *drvsim.System, fixed bool)) {
	mk := func(fixed bool) *sim.Scenario {
		name, desc, kind := b.Name+"-before", about[0], want
		if fixed {
			name, desc, kind = b.Name+"-after", about[1], ""
		}
		return &sim.Scenario{
			Name:        name,
			Under:       fmt.Sprintf("%s, %s the fix", under, map[bool]string{false: "before", true: "after"}[fixed]),
			Description: desc,
			Want:        sim.Prediction{Bug: kind},
			Defaults:    sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: MaxPreemptions, Schedules: Schedules},
			New: func() sim.Setup {
				r := &drvsim.Runs{}
				return sim.Setup{Run: func(s *sim.Sim) { run(s, r.System(s), fixed) }, Close: r.Close}
			},
		}
	}
	b.Before, b.After = mk(false), mk(true)
}

// must panics on a setup error: the scenario's machine is broken, which
// fails the run as an oops of its setup.
func must(err error) {
	if err != nil {
		panic(err)
	}
}
