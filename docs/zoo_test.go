package docs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/drvsim/drvsim/trace"
	"github.com/drvsim/drvsim/zoo"
)

// The bug zoo's pages: docs/bug-zoo.md's table (generator zoo-table) and
// one page per bug in docs/zoo, whose blocks (zoo-NAME-found,
// zoo-NAME-fixed) quote the bug's story as `drvsim zoo NAME` tells it.
// Every block comes from the hunts of the zoo (zoo.Bug.Hunt): each bug
// is hunted once per test run, twice in fact, and the two stories must
// agree (the twice check of the other generators, done once per bug).

func init() {
	generators["zoo-table"] = zooTable
}

type huntResult struct {
	h   *zoo.Hunt
	err error
}

var (
	huntsMu sync.Mutex
	hunts   = map[string]*huntResult{}
)

// hunted returns the hunt of the bug named name, run on first use (twice,
// the stories compared).
func hunted(name string) (*zoo.Hunt, error) {
	huntsMu.Lock()
	defer huntsMu.Unlock()
	if r, ok := hunts[name]; ok {
		return r.h, r.err
	}
	b, ok := zoo.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("no bug %s in the zoo", name)
	}
	h, err := b.Hunt()
	if err == nil {
		b2, _ := zoo.Lookup(name)
		h2, err2 := b2.Hunt()
		switch {
		case err2 != nil:
			err = err2
		case h.Story() != h2.Story():
			err = fmt.Errorf("%s: two hunts tell different stories (- first, + second):\n%s", name,
				lineDiff(strings.Split(h.Story(), "\n"), strings.Split(h2.Story(), "\n")))
		}
	}
	hunts[name] = &huntResult{h, err}
	return h, err
}

// storySection returns the lines of the story's section whose heading
// starts with "== "+heading, without the heading and the blank line that
// ends it.
func storySection(story, heading string) (string, error) {
	i := strings.Index(story, "\n== "+heading)
	if i < 0 {
		return "", fmt.Errorf("no section %q in the story", heading)
	}
	rest := story[i+1:]
	rest = rest[strings.Index(rest, "\n")+1:]
	if j := strings.Index(rest, "\n\n== "); j >= 0 {
		rest = rest[:j+1]
	}
	return rest, nil
}

// zooGenerators are the blocks of docs/zoo/*.md.
func zooGenerators() map[string]generator {
	gens := map[string]generator{}
	for _, b := range zoo.Bugs() {
		if !b.Reproduced() {
			continue
		}
		name := b.Name
		gens["zoo-"+name+"-found"] = func() (string, error) {
			h, err := hunted(name)
			if err != nil {
				return "", err
			}
			return storySection(h.Story(), "the bug found")
		}
		gens["zoo-"+name+"-fixed"] = func() (string, error) {
			h, err := hunted(name)
			if err != nil {
				return "", err
			}
			return storySection(h.Story(), "the fixed driver")
		}
	}
	// rpm-suppliers-probe's page follows the link's count through the
	// failing run: the counting of zoo/rpmsuppliers and the two devices'
	// status changes, then the report.
	gens["zoo-rpm-suppliers-probe-counts"] = func() (string, error) {
		h, err := hunted("rpm-suppliers-probe")
		if err != nil {
			return "", err
		}
		if h.Minimal == nil {
			return "", fmt.Errorf("rpm-suppliers-probe: no failing run")
		}
		counting := []string{"pm_runtime_new_link", "pm_runtime_get_suppliers", "rpm_get_suppliers",
			"__rpm_put_suppliers", "pm_runtime_put_suppliers", "__update_runtime_status", "sim"}
		var ev []trace.Event
		for _, e := range h.Minimal.Events {
			if slices.Contains(counting, e.Func) {
				ev = append(ev, e)
			}
		}
		return trace.Text(ev), nil
	}
	return gens
}

// zooTable is docs/bug-zoo.md's table: one row per bug, from its hunt.
func zooTable() (string, error) {
	var b strings.Builder
	row := func(cols ...string) {
		fmt.Fprintf(&b, "%-21s %-39s %-13s %-43s %-9s %-5s %s\n", cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6])
	}
	row("bug", "subsystem", "fix", "symptom before the fix", "found in", "pre.", "after the fix")
	for _, bug := range zoo.Bugs() {
		if !bug.Reproduced() {
			row(bug.Name, bug.Subsystem, bug.ShortCommit(), "not reproduced", "-", "-", bug.Missing)
			continue
		}
		h, err := hunted(bug.Name)
		if err != nil {
			return "", err
		}
		if h.Minimal.Preemptions > 0 && !h.Found.MinimalProven {
			return "", fmt.Errorf("%s: the minimal schedule's %d preemption(s) are not proven the fewest", bug.Name, h.Minimal.Preemptions)
		}
		row(bug.Name, bug.Subsystem, bug.ShortCommit(), h.Symptom(),
			fmt.Sprintf("%d", h.Found.Schedules), fmt.Sprintf("%d", h.Minimal.Preemptions),
			fmt.Sprintf("%d schedules, none fails", h.Fixed.Schedules))
	}
	return b.String(), nil
}

// TestZooPages regenerates the marked blocks of docs/zoo/*.md (with
// -update, rewrites them) and checks that every bug has its page, linked
// from bug-zoo.md, whose ```go excerpts (marked as docs/gocode_test.go
// says) quote the bug's rebuilt code and whose links lead to files that
// exist.
func TestZooPages(t *testing.T) {
	problems, rewritten, err := checkDocs("zoo", twice(zooGenerators()), *update)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error("zoo/" + p)
	}
	for _, r := range rewritten {
		t.Logf("zoo/%s: rewritten", r)
	}
	index, err := os.ReadFile("bug-zoo.md")
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)#]+)(#[^)]*)?\)`)
	for _, b := range zoo.Bugs() {
		page := filepath.Join("zoo", b.Name+".md")
		data, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("%s: no page for bug %s", page, b.Name)
			continue
		}
		if !strings.Contains(string(index), "](zoo/"+b.Name+".md)") {
			t.Errorf("bug-zoo.md does not link %s", page)
		}
		if !strings.Contains(string(data), b.Commit) {
			t.Errorf("%s does not name the fix commit %s", page, b.Commit)
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			if _, err := os.Stat(filepath.Join("zoo", target)); err != nil {
				t.Errorf("%s: link to %s: %v", page, target, err)
			}
		}
		blocks, _ := parseGoBlocks(page, string(data))
		if !b.Reproduced() {
			continue
		}
		want := "zoo/" + zooPackage[b.Name] + "/"
		n := 0
		for _, g := range blocks {
			if g.kind == "excerpt" && strings.HasPrefix(g.path, want) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: no ```go excerpt of the rebuilt code (%s)", page, want)
		}
	}
	// Every ```go block of the pages quotes the code it names.
	bad, err := checkGoBlocks("zoo", "..", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bad {
		t.Error("zoo/" + p)
	}
}

// zooPackage is the package each bug's rebuilt code lives in, below
// ../zoo.
var zooPackage = map[string]string{
	"skel-read-urb":        "skelread",
	"iowarrior-disconnect": "iowarrior",
	"bwctrl-devm-irq":      "bwctrl",
	"bq24190-work":         "bq24190",
	"appleir-timer":        "appleir",
	"i2cdev-cdev":          "i2cdev",
	"deferral-race":        "deferral",
	"gpiolib-srcu":         "gpiolib",
	"ldusb-unbind":         "ldusb",
	"adutux-release":       "adutux",
	"rpm-suppliers-probe":  "rpmsuppliers",
}
