package docs_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"

	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// The design lab's generated tables and reports (design-lab.md).

// outcome explores the registered scenario name with its default settings
// and says what exploring it showed, in one short cell: "hang@349" (a
// deadlock found in schedule 349), "UAF@3" (a use-after-free), "BUG@2"
// (sleeping in atomic context) or "ok/2520" (2520 schedules, the space
// exhausted, no failure; "ok/2646*" when the scenario bounds the
// preemptions per schedule). It fails when the outcome is not the one the
// scenario predicts.
func outcome(name string) (string, error) {
	sc, ok := scenarios.Lookup(name)
	if !ok {
		return "", fmt.Errorf("no scenario %q", name)
	}
	res := sc.Explore(sc.Config())
	if err := sc.Check(res); err != nil {
		return "", fmt.Errorf("%s: %v", name, err)
	}
	if !res.Failed() {
		if !res.Exhausted {
			return "", fmt.Errorf("%s: not exhausted: %s", name, res.ExploreResult)
		}
		if sc.Defaults.MaxPreemptions > 0 {
			return fmt.Sprintf("ok/%d*", res.Schedules), nil
		}
		return fmt.Sprintf("ok/%d", res.Schedules), nil
	}
	short := map[sim.BugKind]string{sim.BugDeadlock: "hang", sim.BugUseAfterFree: "UAF", sim.BugLockdep: "BUG"}[res.Failure.Failure.Kind]
	if short == "" {
		short = string(res.Failure.Failure.Kind)
	}
	return fmt.Sprintf("%s@%d", short, res.Schedules), nil
}

// labFlawsTable is the design lab's summary: for each design, the outcome
// of each experiment (its registered scenario, explored with its default
// settings) and what one read costs (kernelmodel.ReadPaths, counted in a
// real run). "-" marks an experiment the design has no form of.
func labFlawsTable() (string, error) {
	designs := []string{"v3", "merged", "v8", "v10", "drvsim"}
	columns := []struct {
		head string
		name func(d string) string // the scenario of design d, "" for none
	}{
		{"kept handle", func(d string) string { return d + "-shared-handle" }},
		{"per-read", func(d string) string {
			if d == "v3" {
				return "" // REVOCABLE() needs a handle
			}
			return d + "-shared-provider"
		}},
		{"copied ptr", func(d string) string { return d + "-copied-provider" }},
		{"gpiolib", func(d string) string { return d + "-gpiolib-race" }},
		{"atomic put", func(d string) string { return d + "-atomic-put" }},
	}
	paths, err := kernelmodel.ReadPaths()
	if err != nil {
		return "", err
	}
	cost := map[string]kernelmodel.ReadPath{}
	for _, p := range paths {
		cost[p.Design] = p
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s", "design")
	for _, c := range columns {
		fmt.Fprintf(&b, "  %-11s", c.head)
	}
	fmt.Fprintf(&b, "  %s\n", "per read: ref writes, SRCU, RCU")
	for _, d := range designs {
		fmt.Fprintf(&b, "%-8s", d)
		for _, c := range columns {
			cell := "-"
			if name := c.name(d); name != "" {
				if cell, err = outcome(name); err != nil {
					return "", err
				}
			}
			fmt.Fprintf(&b, "  %-11s", cell)
		}
		p := cost[d]
		fmt.Fprintf(&b, "  %d, %d, %d\n", p.RefWrites, p.SRCU, p.RCU)
	}
	kunit, err := outcome("v10-kunit-refcount")
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "v10-kunit-refcount: %s\n", kunit)
	return b.String(), nil
}

func labMergedGPIOLib() (string, error) {
	return labExplore("merged-gpiolib-race", sim.Exhaustive, 1000, "TestGPIOLibRaceUseAfterFree/merged-gpiolib-race")
}

func labV8AtomicPut() (string, error) {
	return labExplore("v8-atomic-put", sim.Exhaustive, 1000, "TestAtomicPutSleepsInAtomic/v8-atomic-put")
}

// labV10KUnit is v10's concurrent KUnit case on the schedule without
// preemptions: the reference counts and the release work, from the trace.
func labV10KUnit() (string, error) {
	res := sim.Run(sim.Config{}, kernelmodel.V10KUnitRefcount)
	if res.Failed() {
		return "", fmt.Errorf("%s", res)
	}
	var evs []trace.Event
	for _, e := range res.Events {
		if e.Kind == trace.Revocable || e.Kind == trace.Revoke || (e.Func == "kfree" && strings.HasPrefix(e.Msg, "revocable")) {
			evs = append(evs, e)
		}
	}
	return trace.Text(evs), nil
}

// skelVariants are the four skeletons, in the order design-lab.md's
// table shows them, with the source file of each.
var skelVariants = []struct {
	v    skel.Variant
	file string
}{
	{skel.Classic, "classic.go"},
	{skel.Revocable, "revocable.go"},
	{skel.Drain, "drain.go"},
	{skel.Broken, "broken.go"},
}

// labSkelTable compares the four skeletons: the outcome of the registered
// unplug-mid-read scenario of each (usb-skel-*, explored with its default
// settings), and what each costs its author, measured on its source file:
// lines of code (not blank, not comments) and the file operations (read,
// write, ioctl) that test for the device's presence themselves (they read
// a disconnected flag, or call a try-access: with, With, TryAccess, or the
// broken driver's connected).
func labSkelTable() (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%-15s  %-12s  %-13s  %s\n", "driver", "unplug race", "lines of code", "file operations that check")
	for _, sv := range skelVariants {
		out, err := outcome(scenario.ScenarioOf(sv.v).Name)
		if err != nil {
			return "", err
		}
		loc, checks, err := skelCost("../drivers/usbsim/skel/" + sv.file)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%-15s  %-12s  %-13d  %s\n", sv.v, out, loc, checks)
	}
	return b.String(), nil
}

// skelCost measures a skeleton's source file: its lines of code and which
// of its read, write and ioctl operations test for presence themselves.
func skelCost(path string) (loc int, checks string, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return 0, "", err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return 0, "", err
	}
	comment := map[int]bool{}
	for _, cg := range f.Comments {
		for l := fset.Position(cg.Pos()).Line; l <= fset.Position(cg.End()).Line; l++ {
			comment[l] = true
		}
	}
	for i, l := range strings.Split(string(src), "\n") {
		if t := strings.TrimSpace(l); t != "" && !(comment[i+1] && strings.HasPrefix(t, "//")) {
			loc++
		}
	}
	var ops []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		op := ""
		for _, suffix := range []string{"Read", "Write", "Ioctl", "read", "write", "ioctl"} {
			if strings.HasSuffix(fn.Name.Name, suffix) {
				op = strings.ToLower(suffix)
			}
		}
		if op == "" || fn.Body == nil {
			continue
		}
		checked := false
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				if x.Sel.Name == "disconnected" {
					checked = true
				}
			case *ast.CallExpr:
				name := ""
				switch fun := x.Fun.(type) {
				case *ast.Ident:
					name = fun.Name
				case *ast.SelectorExpr:
					name = fun.Sel.Name
				}
				switch name {
				case "with", "With", "TryAccess", "connected":
					checked = true
				}
			}
			return true
		})
		if checked {
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 {
		return loc, "none", nil
	}
	return loc, strings.Join(ops, ", "), nil
}

// labDrainUnplug is the drain skeleton's unplug with a read in flight, on
// the schedule without preemptions: the revoke waits for the read, whose
// URB the disconnect terminated, then releases the file; from the unplug
// on, the character layer's, the skeleton's and the scheduler's waits.
func labDrainUnplug() (string, error) {
	res, m := scenario.UnplugMidRead(skel.Drain)
	defer m.Close()
	if res.Failed() {
		return "", fmt.Errorf("%s", res)
	}
	var evs []trace.Event
	started := false
	for _, e := range res.Events {
		started = started || e.Func == "hub_port_connect_change"
		if !started {
			continue
		}
		switch {
		case e.Func == "usb_hcd_giveback_urb", e.Func == "skel_disconnect", e.Func == "vfs_read",
			e.Func == "__fput", e.Func == "cdev_revoke", e.Func == "devm_action_release",
			e.Func == "schedule" && strings.Contains(e.Msg, "block"):
			evs = append(evs, e)
		}
	}
	return trace.Text(evs), nil
}
