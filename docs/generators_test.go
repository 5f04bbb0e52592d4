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
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// generator produces the text of one trace block from a real run. It must
// give the same bytes on every run.
type generator func() (string, error)

// generators maps a marker name (<!-- trace: NAME -->) to its generator.
// The page each one is quoted on is in the comment.
var generators = map[string]generator{
	// tutorial.md (examples/firstdriver)
	// shell.md: the unplug lesson's transcript, as its golden file holds it
	// (cmd/drvsim's TestShellGolden keeps the golden file current)
	"shell-unplug-lesson": fileText("../cmd/drvsim/testdata/shell-unplug-lesson.golden"),

	"tutorial-step1": tutorialStep("1"),
	"tutorial-step2": tutorialStep("2"),
	"tutorial-step3": tutorialStep("3"),
	"tutorial-step4": tutorialStep4,
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
	// testing.md
	"testing-use-after-free":  testingUseAfterFree,
	"testing-deadlock":        testingDeadlock,
	"testing-fault-sweep":     testingFaultSweep,
	"testing-replay-seed":     testingReplaySeed,
	"testing-replay-schedule": testingReplaySchedule,
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
}

// lifecycle.md, worked example 1 (driver_test.go's scenario 2): a probe
// adds two devm actions and fails; the trace from the device's
// registration on.
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

// lifecycle.md, worked example 2 (driver_test.go's scenario 4): a driver
// with a DevmProvider and an irq_free action is unbound through sysfs
// while a consumer is open; the trace of the unbind.
func lifecycleUnbindRevoke() (string, error) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	var prov *revocable.Provider[gpioRegs]
	drv := platform.NewDriver("gpio", func(dev *device.Device) error {
		var err error
		prov, err = revocable.DevmProvider(dev, &gpioRegs{base: 0x1000},
			revocable.WithName("gpio-regs"), revocable.WithTrace(dev.Log()))
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
	log := trace.NewLog()
	l := devres.NewList("/sys/devices/platform/serial0")
	l.Attach(log, nil)
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
	p := revocable.NewProvider(&ecDevice{name: "cros-ec"}, revocable.WithName("ec0"), revocable.WithTrace(log))
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

// usb.md: scenario.HuntUseAfterFree(skel.Broken, 1, 1000).
func usbBrokenHunt() (string, error) {
	res := scenario.HuntUseAfterFree(skel.Broken, 1, 1000)
	if !res.Failed() {
		return "", fmt.Errorf("no failure: %s", res)
	}
	// The page quotes the access's call sites, the free's first two, and the hint.
	return reportExcerpt(res.String(), true, 4, 0, 2), nil
}

// drm.md: udlsim.FlushVsUnplug with the Broken driver, explored
// exhaustively as TestBrokenFlushUseAfterFree does.
func drmBrokenFlush() (string, error) {
	sc := &udlsim.FlushVsUnplug{Variant: udlsim.Broken}
	defer sc.Close()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1000000,
		Config: sim.Config{Test: "TestBrokenFlushUseAfterFree", Pkg: "./drivers/drmsim/udlsim"}}, sc.Scenario)
	if !res.Failed() {
		return "", fmt.Errorf("no failure: %s", res)
	}
	return reportExcerpt(res.String(), false, 4, -1, 3), nil
}

// drm.md: udlsim.UnplugDemo's narrated trace, from the process's open on
// (the bind before it is cut).
func drmUnplugDemo() (string, error) {
	res, err := udlsim.UnplugDemo()
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
	return labExplore("v3-shared-handle", sim.Exhaustive, 5000, true, "TestSharedHandleExhaustiveExplorationHangsRevoke/v3-shared-handle")
}

func labMergedSharedHandle() (string, error) {
	return labExplore("merged-shared-handle", sim.Random, 500, false, "TestSharedHandleRandomExplorationHangsRevoke/merged-shared-handle")
}

func labMergedCopiedProvider() (string, error) {
	return labExplore("merged-copied-provider", sim.Exhaustive, 1000, false, "TestCopiedProviderExhaustiveFindsUseAfterFree")
}

func labExplore(name string, mode sim.Mode, schedules int, shrink bool, test string) (string, error) {
	sc, ok := kernelmodel.Lookup(name)
	if !ok {
		return "", fmt.Errorf("no scenario %q", name)
	}
	res := sim.Explore(sim.ExploreConfig{Mode: mode, Schedules: schedules, Shrink: shrink,
		Config: sim.Config{Seed: 1, Test: test, Pkg: "./revocable/kernelmodel"}}, sc.Run)
	if !res.Failed() {
		return "", fmt.Errorf("%s: no failure: %s", name, res)
	}
	return res.String(), nil
}

func labDrvsimImmune() (string, error) {
	var b strings.Builder
	for _, name := range []string{"drvsim-shared-handle", "drvsim-copied-provider"} {
		sc, _ := kernelmodel.Lookup(name)
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000}, sc.Run)
		if res.Failed() || !res.Exhausted {
			return "", fmt.Errorf("%s: %s", name, res)
		}
		fmt.Fprintf(&b, "%s: %s", name, res)
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
