package docs_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/devres"
	udlscenario "github.com/drvsim/drvsim/drivers/drmsim/udlsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// generator produces the text of one trace block from a real run. It must
// give the same bytes on every run.
type generator func() (string, error)

// generators maps a marker name (<!-- trace: NAME -->) to its generator.
// The page each one is quoted on is in the comment.
var generators = map[string]generator{
	// shell.md: the unplug lesson's transcript, as its golden file holds it
	// (cmd/drvsim's TestShellGolden keeps the golden file current)
	"shell-unplug-lesson": fileText("../cmd/drvsim/testdata/shell-unplug-lesson.golden"),

	// tutorial.md (examples/firstdriver, tutorial_test.go)

	"tutorial-insmod":        tutorialInsmod,
	"tutorial-probe-failure": tutorialProbeFailure,
	"tutorial-read":          tutorialRead,
	"tutorial-unbind":        tutorialUnbind,
	"tutorial-explore":       tutorialExplore,
	"tutorial-unbind-waits":  tutorialUnbindWaits,
	"tutorial-raw":           tutorialRaw,
	// lifecycle.md
	"lifecycle-probe-failure": lifecycleProbeFailure,
	"lifecycle-unbind-revoke": lifecycleUnbindRevoke,
	// devres.md
	"devres-release-order": devresReleaseOrder,
	// revocable.md
	"revocable-provider-cycle": revocableProviderCycle,
	// usb.md
	"usb-unplug-mid-read": usbUnplugMidRead,
	"usb-broken-hunt":     usbBrokenHunt,
	// drm.md
	"drm-broken-flush": drmBrokenFlush,
	"drm-unplug-demo":  drmUnplugDemo,
	// kernel.md (kernel_test.go)
	"kernel-sleep-in-atomic": kernelSleepInAtomic,
	"kernel-sensor-trace":    kernelSensorTrace,
	"kernel-sensor-explore":  kernelSensorExplore,
	// testing.md
	"testing-use-after-free":  testingUseAfterFree,
	"testing-deadlock":        testingDeadlock,
	"testing-fault-sweep":     testingFaultSweep,
	"testing-replay-seed":     testingReplaySeed,
	"testing-replay-schedule": testingReplaySchedule,
	"testing-ec-fault-sweep":  testingECFaultSweep,
	"testing-minimal":         testingMinimal,
	"testing-nondeterminism":  testingNondeterminism,
	"testing-stuck":           testingStuck,
	"testing-shards":          testingShards,
	"testing-leak":            testingLeak,
	// testing.md, "Asynchronous probe under the explorer" (async_test.go)
	"testing-async-unregister":        asyncTrace("driver_unregister"),
	"testing-async-unregister-replay": asyncReplay("driver_unregister"),
	"testing-async-removal":           asyncTrace("device_del"),
	"testing-async-removal-replay":    asyncReplay("device_del"),
	// design-lab.md
	"lab-v3-shared-handle":       labV3SharedHandle,
	"lab-merged-shared-handle":   labMergedSharedHandle,
	"lab-merged-copied-provider": labMergedCopiedProvider,
	"lab-drvsim-immune":          labDrvsimImmune,
	// cli.md (cmd/drvsim, cli_test.go)
	"cli-usage":         cliUsage,
	"cli-default-demo":  cliDefaultDemo,
	"cli-demo-list":     cliDemoList,
	"cli-probe-failure": cliProbeFailure,
	"cli-device-links":  cliDeviceLinks,
	"cli-usb-rmmod":     cliUSBRmmod,
	"cli-json-head":     cliJSONHead,
	"cli-mermaid-phase": cliMermaidPhase,
	"cli-explore":       cliExplore,
	// examples.md (examples/*, examples_test.go)
	"example-platform-unbind":        examplePlatformUnbind,
	"example-platform-probe-failure": examplePlatformProbeFailure,
	"example-revocable":              exampleRevocable,
	"example-usb-unplug":             exampleUSBUnplug,
	"example-drm-unplug":             exampleDRMUnplug,
	"example-lifecycle-test":         exampleLifecycleTest,
}

// lifecycle.md, worked example 1 (driver_test.go's
// TestFailedProbeReleasesDevresNewestFirst): a probe adds two devm
// actions and fails; the trace from the device's registration on.
func lifecycleProbeFailure() (string, error) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	drv := platform.NewDriver("sensor", func(dev *device.Device) error {
		dev.SetDrvdata("state")
		if _, err := dev.Devres().Add("clk_disable", func() {}); err != nil {
			return err
		}
		if _, err := dev.Devres().Add("regulator_disable", func() {}); err != nil {
			return err
		}
		return fmt.Errorf("sensor: chip id mismatch: %w", device.ErrIO)
	}, nil)
	if err := sys.RegisterDriver(drv); err != nil {
		return "", err
	}
	seq := sys.Log().Seq()
	if err := sys.RegisterDevice(sys.NewPlatformDevice("sensor")); err != nil {
		return "", err
	}
	return trace.Text(sys.Log().Since(seq)), nil
}

type gpioRegs struct{ base uint32 }

// lifecycle.md, worked example 2 (driver_test.go's
// TestUnbindRunsRemoveThenDevresThenNotifies): a driver with a
// DevmProvider and an irq_free action is unbound through sysfs while a
// consumer is open; the trace of the unbind.
func lifecycleUnbindRevoke() (string, error) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	var prov *revocable.Provider[gpioRegs]
	drv := platform.NewDriver("gpio", func(dev *device.Device) error {
		var err error
		prov, err = revocable.DevmProvider(dev, &gpioRegs{base: 0x1000}, revocable.WithName("gpio-regs"))
		if err != nil {
			return err
		}
		_, err = dev.Devres().Add("irq_free", func() {})
		return err
	}, func(dev *device.Device) {
		dev.Log().Emit(trace.Event{Kind: trace.Note, Dev: dev.Path(), Func: "gpio_remove", Msg: "driver remove runs"})
	})
	if err := sys.RegisterDriver(drv); err != nil {
		return "", err
	}
	dev := sys.NewPlatformDevice("gpio")
	if err := sys.RegisterDevice(dev); err != nil {
		return "", err
	}
	cons, err := revocable.New(prov)
	if err != nil {
		return "", err
	}
	defer cons.Close()
	seq := sys.Log().Seq()
	if err := sys.Unbind(dev); err != nil {
		return "", err
	}
	return trace.Text(sys.Log().Since(seq)), nil
}

// devres.md: three actions on a bare list, then ReleaseAll.
func devresReleaseOrder() (string, error) {
	e := env.New()
	log := e.Log()
	l := devres.NewList("/sys/devices/platform/serial0")
	l.Attach(e)
	if _, err := l.Add("clk_disable_unprepare", func() {}); err != nil {
		return "", err
	}
	if _, err := l.AddOrReset("free_irq", func() {}); err != nil {
		return "", err
	}
	if _, err := l.Add("iounmap", func() {}); err != nil {
		return "", err
	}
	l.ReleaseAll()
	return log.String(), nil
}

type ecDevice struct{ name string }

// revocable.md: ExampleProvider's cycle (revocable/example_test.go).
func revocableProviderCycle() (string, error) {
	log := trace.NewLog()
	p := revocable.NewProvider(env.New(env.WithLog(log)), &ecDevice{name: "cros-ec"}, revocable.WithName("ec0"))
	c, err := revocable.New(p)
	if err != nil {
		return "", err
	}
	if ec, a := c.TryAccess(); ec != nil {
		a.Release()
	}
	p.Revoke()
	_, a := c.TryAccess()
	a.Release()
	if err := c.Close(); err != nil {
		return "", err
	}
	return log.String(), nil
}

// usb.md: scenario.UnplugMidRead(skel.Revocable), as scenario.DemoEvents
// filters it.
func usbUnplugMidRead() (string, error) {
	res, m := scenario.UnplugMidRead(skel.Revocable)
	defer m.Close()
	if res.Failed() {
		return "", fmt.Errorf("%s", res)
	}
	return trace.Text(scenario.DemoEvents(res.Events)), nil
}

// usb.md: scenario.HuntUseAfterFree(skel.Broken, 1, 1000), random
// schedules of the registered usb-skel-broken.
func usbBrokenHunt() (string, error) {
	res := scenario.HuntUseAfterFree(skel.Broken, 1, 1000)
	if !res.Failed() {
		return "", fmt.Errorf("no failure: %s", res)
	}
	// The page quotes the access's call sites, the free's first two, and the hint.
	return reportExcerpt(res.String(), true, 4, 0, 2), nil
}

// drm.md: the registered drm-udl-broken (FlushVsUnplug with the Broken
// driver), explored exhaustively as TestBrokenFlushUseAfterFree does.
func drmBrokenFlush() (string, error) {
	sc, ok := scenarios.Lookup("drm-udl-broken")
	if !ok {
		return "", fmt.Errorf("no scenario drm-udl-broken")
	}
	cfg := sc.Config()
	cfg.Config = sim.Config{Test: "TestBrokenFlushUseAfterFree", Pkg: "./drivers/drmsim/udlsim/scenario"}
	res := sc.Explore(cfg)
	if !res.Failed() {
		return "", fmt.Errorf("no failure: %s", res)
	}
	return reportExcerpt(res.String(), false, 4, -1, 3), nil
}

// drm.md: udlscenario.UnplugDemo's narrated trace, from the process's
// open on (the bind before it is cut).
func drmUnplugDemo() (string, error) {
	res, err := udlscenario.UnplugDemo()
	if err != nil {
		return "", err
	}
	i := strings.Index(res.Trace, "demo: a process opens")
	if i < 0 {
		return "", fmt.Errorf("no open note in the demo trace:\n%s", res.Trace)
	}
	i = strings.LastIndex(res.Trace[:i], "\n") + 1
	return res.Trace[i:], nil
}

// reportExcerpt cuts an explore or run report (ExploreResult.String,
// Result.String) of a KASAN failure to what a page quotes: with header,
// the lines before the report and its rulers; the title; of the access,
// allocation and free sections at most access, alloc and free call sites
// each, "    ..." standing for the rest (a negative count drops the
// section); then the replay hint, after a "..." line standing for the
// schedule and the trace when header is set.
func reportExcerpt(text string, header bool, access, alloc, free int) string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var out []string
	rulers := 0
	left := 0 // call sites left to copy in the current section
	skip := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "====="):
			rulers++
			if header {
				out = append(out, l)
			}
			continue
		case strings.HasPrefix(l, "replay: "):
			if header {
				out = append(out, "...")
			}
			out = append(out, l)
			continue
		case rulers == 0:
			if header {
				out = append(out, l)
			}
			continue
		case rulers > 1:
			continue // the schedule and the trace
		}
		n, section := 0, true
		switch {
		case strings.HasPrefix(l, "Access "):
			n = access
		case strings.HasPrefix(l, "Allocated by "):
			n = alloc
		case strings.HasPrefix(l, "Freed by "):
			n = free
		default:
			section = false
		}
		switch {
		case section:
			skip, left = n < 0, n
			if !skip {
				out = append(out, l)
			}
		case skip:
		case strings.HasPrefix(l, "    "): // a call site
			switch {
			case left > 0:
				out = append(out, l)
			case left == 0:
				out = append(out, "    ...")
			}
			left--
		default:
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// design-lab.md: the v3 shared handle, exhaustive (TestSharedHandleExhaustiveExplorationHangsRevoke).
func labV3SharedHandle() (string, error) {
	return labExplore("v3-shared-handle", sim.Exhaustive, 5000, "TestSharedHandleExhaustiveExplorationHangsRevoke/v3-shared-handle")
}

func labMergedSharedHandle() (string, error) {
	return labExplore("merged-shared-handle", sim.Random, 500, "TestSharedHandleRandomExplorationHangsRevoke/merged-shared-handle")
}

func labMergedCopiedProvider() (string, error) {
	return labExplore("merged-copied-provider", sim.Exhaustive, 1000, "TestCopiedProviderExhaustiveFindsUseAfterFree")
}

// labExplore explores the registered scenario name as the test named test
// does, and gives the report of the failure it must find.
func labExplore(name string, mode sim.Mode, schedules int, test string) (string, error) {
	sc, ok := scenarios.Lookup(name)
	if !ok {
		return "", fmt.Errorf("no scenario %q", name)
	}
	res := sc.Explore(sim.ExploreConfig{Mode: mode, Schedules: schedules,
		Config: sim.Config{Seed: 1, Test: test, Pkg: "./revocable/kernelmodel"}})
	if !res.Failed() {
		return "", fmt.Errorf("%s: no failure: %s", name, res)
	}
	return res.String(), nil
}

// labDrvsimImmune explores both experiments on drvsim's design
// exhaustively, as TestDrvsimImmuneExhaustive does.
func labDrvsimImmune() (string, error) {
	var b strings.Builder
	for _, name := range []string{"drvsim-shared-handle", "drvsim-copied-provider"} {
		sc, ok := scenarios.Lookup(name)
		if !ok {
			return "", fmt.Errorf("no scenario %q", name)
		}
		res := sc.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000})
		if res.Failed() || !res.Exhausted {
			return "", fmt.Errorf("%s: %s", name, res)
		}
		fmt.Fprintf(&b, "%s: %s", name, res.ExploreResult)
	}
	return b.String(), nil
}

// TestReadmeExcerpt keeps the trace excerpt on the first screen of the
// top-level README.md honest: every line of its ```text blocks must be a
// line of the default demo's output (cmd/drvsim/testdata/default-demo.golden,
// which cmd/drvsim's tests hold to the command's real output), in the same
// order. When it fails, update the excerpt and the event numbers the prose
// under it cites.
func TestReadmeExcerpt(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("../cmd/drvsim/testdata/default-demo.golden")
	if err != nil {
		t.Fatal(err)
	}
	demo := strings.Split(string(golden), "\n")
	in, pos, lines := false, 0, 0
	for n, l := range strings.Split(string(readme), "\n") {
		switch {
		case !in && l == "```text":
			in = true
			continue
		case in && l == "```":
			in = false
			continue
		case !in || strings.TrimSpace(l) == "":
			continue
		}
		lines++
		i := slices.Index(demo[pos:], l)
		if i < 0 {
			t.Errorf("README.md:%d: not a line of the default demo's output (after line %d of default-demo.golden): %s", n+1, pos, l)
			continue
		}
		pos += i + 1
	}
	if lines == 0 {
		t.Error("README.md has no ```text excerpt of the default demo")
	}
}

// fileText returns a generator giving the contents of a file another test
// keeps current (a golden transcript).
func fileText(path string) generator {
	return func() (string, error) {
		data, err := os.ReadFile(path)
		return string(data), err
	}
}

// excerpt cuts a program's output to what a page quotes. Its methods pick
// runs of lines in order, each searched from where the previous pick
// ended, and text returns them. Two picks that follow each other in the
// output join, with the blank lines between them if there are only blank
// lines; otherwise a "..." line (see elide) stands for the lines left out.
// Lines before the first pick and after the last are left out without a
// mark, unless more marks them. A pick that finds nothing makes text fail:
// a page cannot go on quoting lines the program no longer prints.
type excerpt struct {
	lines  []string
	pos    int // lines[:pos] are behind the last pick
	dots   string
	marked bool // a dots line already stands for the lines from pos on
	out    []string
	err    error
}

func newExcerpt(text string) *excerpt {
	return &excerpt{lines: strings.Split(strings.TrimSuffix(text, "\n"), "\n"), dots: "..."}
}

// elide sets the line standing for lines left out ("..." by default).
func (e *excerpt) elide(dots string) *excerpt {
	e.dots = dots
	return e
}

// find returns the index of the first line at or after from for which
// match holds, or -1 after recording an error naming what.
func (e *excerpt) find(from int, what string, match func(string) bool) int {
	if e.err != nil {
		return -1
	}
	for i := from; i < len(e.lines); i++ {
		if match(e.lines[i]) {
			return i
		}
	}
	e.err = fmt.Errorf("excerpt: no %s from line %d of the output on", what, from+1)
	return -1
}

func (e *excerpt) findText(from int, s string) int {
	return e.find(from, fmt.Sprintf("line containing %q", s), func(l string) bool { return strings.Contains(l, s) })
}

// add appends lines[lo:hi], or shown in their place when it is not nil.
func (e *excerpt) add(lo, hi int, shown []string) *excerpt {
	switch {
	case e.err != nil:
		return e
	case lo < e.pos || hi > len(e.lines) || lo >= hi:
		e.err = fmt.Errorf("excerpt: lines %d-%d of %d are not after the last pick (line %d)", lo+1, hi, len(e.lines), e.pos)
		return e
	}
	if shown == nil {
		shown = e.lines[lo:hi]
	}
	if lo > e.pos && len(e.out) > 0 && !e.marked {
		gap := e.lines[e.pos:lo]
		if slices.ContainsFunc(gap, func(l string) bool { return strings.TrimSpace(l) != "" }) {
			e.out = append(e.out, e.dots)
		} else {
			e.out = append(e.out, gap...)
		}
	}
	e.out = append(e.out, shown...)
	e.pos, e.marked = hi, false
	return e
}

// head picks the next n lines.
func (e *excerpt) head(n int) *excerpt {
	return e.add(e.pos, e.pos+n, nil)
}

// from picks the first line containing s and the n lines after it.
func (e *excerpt) from(s string, n int) *excerpt {
	if i := e.findText(e.pos, s); i >= 0 {
		return e.add(i, i+1+n, nil)
	}
	return e
}

// line picks the first line containing s.
func (e *excerpt) line(s string) *excerpt {
	return e.from(s, 0)
}

// span picks the lines from the first containing from to the first
// containing to (which may be the same line); with to "", to the end.
func (e *excerpt) span(from, to string) *excerpt {
	i := e.findText(e.pos, from)
	if i < 0 {
		return e
	}
	j := len(e.lines) - 1
	if to != "" {
		j = e.findText(i, to)
	}
	if j < 0 {
		return e
	}
	return e.add(i, j+1, nil)
}

// section picks a "== heading" section, whose heading line starts with
// "== "+heading: up to the next heading or the end, without the blank
// lines that end it.
func (e *excerpt) section(heading string) *excerpt {
	i := e.find(e.pos, fmt.Sprintf("heading %q", "== "+heading), func(l string) bool { return strings.HasPrefix(l, "== "+heading) })
	if i < 0 {
		return e
	}
	j := i + 1
	for j < len(e.lines) && !strings.HasPrefix(e.lines[j], "== ") {
		j++
	}
	for j > i+1 && strings.TrimSpace(e.lines[j-1]) == "" {
		j--
	}
	return e.add(i, j, nil)
}

// report picks the next sanitizer report, from its opening ruler line to
// its closing one, cut by reportExcerpt to at most access, alloc and free
// call sites.
func (e *excerpt) report(access, alloc, free int) *excerpt {
	ruler := func(l string) bool { return strings.HasPrefix(l, "=====") }
	i := e.find(e.pos, "report ruler", ruler)
	if i < 0 {
		return e
	}
	j := e.find(i+1, "closing report ruler", ruler)
	if j < 0 {
		return e
	}
	cut := reportExcerpt(strings.Join(e.lines[i:j+1], "\n"), true, access, alloc, free)
	return e.add(i, j+1, strings.Split(strings.TrimSuffix(cut, "\n"), "\n"))
}

// rest picks the lines from the last pick to the end.
func (e *excerpt) rest() *excerpt {
	return e.add(e.pos, len(e.lines), nil)
}

// tail picks the last n lines of the output.
func (e *excerpt) tail(n int) *excerpt {
	return e.add(len(e.lines)-n, len(e.lines), nil)
}

// more marks the lines from the last pick on as left out, with a dots line,
// if there are any: at the end, the rest of the output; at the start, the
// lines before the first pick.
func (e *excerpt) more() *excerpt {
	if e.err == nil && !e.marked && e.pos < len(e.lines) {
		e.out = append(e.out, e.dots)
		e.marked = true
	}
	return e
}

// text returns the picked lines, each ended by a newline.
func (e *excerpt) text() (string, error) {
	if e.err != nil {
		return "", e.err
	}
	return strings.Join(e.out, "\n") + "\n", nil
}

func TestExcerpt(t *testing.T) {
	out := "title\n\n== 1. one\na\nb\n\n== 2. two\nc\nd\ne\n\n== 3. three\nf\n"
	for _, c := range []struct {
		name string
		e    *excerpt
		want string
	}{
		{"head, blank gap kept, section", newExcerpt(out).head(1).section("1."), "title\n\n== 1. one\na\nb\n"},
		{"adjacent sections", newExcerpt(out).section("1.").section("2."), "== 1. one\na\nb\n\n== 2. two\nc\nd\ne\n"},
		{"elided gap", newExcerpt(out).from("== 1.", 1).line("d").tail(1), "== 1. one\na\n...\nd\n...\nf\n"},
		{"span to the end, own dots", newExcerpt(out).elide(" ...").line("a").span("== 3.", ""), "a\n ...\n== 3. three\nf\n"},
		{"span within one line", newExcerpt(out).span("c", "c").more(), "c\n...\n"},
		{"more at the start", newExcerpt(out).more().tail(2), "...\n== 3. three\nf\n"},
		{"nothing left for more", newExcerpt(out).section("3.").more(), "== 3. three\nf\n"},
		{"rest", newExcerpt(out).section("2.").rest(), "== 2. two\nc\nd\ne\n\n== 3. three\nf\n"},
	} {
		got, err := c.e.text()
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	for name, e := range map[string]*excerpt{
		"missing line":    newExcerpt(out).line("zzz"),
		"out of order":    newExcerpt(out).section("2.").section("1."),
		"past the end":    newExcerpt(out).from("f", 1),
		"tail overlaps":   newExcerpt(out).section("3.").tail(3),
		"missing heading": newExcerpt(out).section("a"),
	} {
		if _, err := e.text(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
