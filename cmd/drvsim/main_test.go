package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the command's output")

// asCommand is the environment variable that makes the test binary behave
// as the drvsim command: the subprocess tests run the test binary itself
// with it set, so they exercise the real process (arguments, standard
// streams, exit status) without a separate go build.
const asCommand = "DRVSIM_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	if os.Getenv(asCommand) == "1" {
		main()
	}
	// goleak.VerifyTestMain, with the package's browser closed first.
	code := m.Run()
	closeBrowser()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// drvsimBinary returns the path of the executable the subprocess tests
// run: this test binary, which is drvsim when asCommand is set.
func drvsimBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return exe
}

// runBinary runs the command as a subprocess with stdin and returns
// its exit status, stdout and stderr.
func runBinary(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(drvsimBinary(t), args...)
	cmd.Env = append(os.Environ(), asCommand+"=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String(), errb.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errb.String()
}

// runCLI runs the command in-process.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	rc := run(args, strings.NewReader(""), &out, &errb)
	return rc, out.String(), errb.String()
}

// goLine matches the file:line of a stack frame, e.g. "(broken.go:115)".
var goLine = regexp.MustCompile(`\.go:[0-9]+\)`)

// maskLines replaces the line numbers of stack frames with N.
func maskLines(s string) string { return goLine.ReplaceAllString(s, ".go:N)") }

// The default demo, as a subprocess, is byte for byte the golden file
// (regenerate with go test ./cmd/drvsim -update).
func TestDefaultDemoGolden(t *testing.T) {
	rc, out, errs := runBinary(t, "")
	require.Equal(t, 0, rc, errs)
	assert.Empty(t, errs)
	golden := filepath.Join("testdata", "default-demo.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(out), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	// The sanitizer's stack frames carry source line numbers; an edit that
	// moves a line in usbsim or skel is not a change of the demo.
	assert.Equal(t, maskLines(string(want)), maskLines(out), "the default demo changed: review, then go test ./cmd/drvsim -update")

	_, named, _ := runCLI("demo", "usb-unplug")
	assert.Equal(t, out, named, "drvsim is drvsim demo usb-unplug")
}

func TestDefaultDemoTellsUnplugThenUseAfterFree(t *testing.T) {
	rc, out, _ := runCLI()
	require.Equal(t, 0, rc)
	for _, want := range []string{
		"really_probe /sys/devices/usb1/1-1/1-1:1.0: bus=usb driver=skel-revocable",
		"devm_add_action /sys/devices/usb1/1-1/1-1:1.0: revocable_provider_revoke",
		"[unplug] schedule: block synchronize_srcu skel 1-1:1.0 -> reader",
		"vfs_read /dev/skel0: -ENODEV",
		"[reader] __fput /dev/skel0: release 0",
		"BUG: KASAN: use-after-free",
		"\ndrvsim explore -mode random -seed 1 -schedules 1 usb-skel-broken\n",
	} {
		assert.Contains(t, out, want)
	}
	assert.Less(t, strings.Index(out, "skel-revocable"), strings.Index(out, "BUG: KASAN"), "the safe story comes first")
	_, again, _ := runCLI()
	assert.Equal(t, out, again, "the demo is deterministic")
}

// The story is told in numbered phases whose headings come in order, each
// followed by the events that show it.
func TestDefaultDemoIsNarratedInPhases(t *testing.T) {
	_, out, _ := runCLI()
	headings := regexp.MustCompile(`(?m)^== (\d+)\. (.*)$`).FindAllStringSubmatch(out, -1)
	require.Len(t, headings, 11, out)
	for i, h := range headings {
		assert.Equal(t, strconv.Itoa(i+1), h[1])
	}
	wantStarts := []string{"plug:", "probe registers devres actions", "a process opens /dev/skel0", "unplug:",
		"revoke waits for the reader", "the interface is released", "the reader gets -ENODEV",
		"the same story with skel-broken", "the failing schedule", "the sanitizer's report", "replay it: this command runs seed 1 again"}
	for i, w := range wantStarts {
		assert.True(t, strings.HasPrefix(headings[i][2], w), "heading %d: %q", i+1, headings[i][2])
	}
	// Each phase holds what its heading says.
	phase := func(n int) string {
		start := strings.Index(out, "== "+strconv.Itoa(n)+". ")
		end := strings.Index(out, "== "+strconv.Itoa(n+1)+". ")
		if end < 0 {
			end = len(out)
		}
		return out[start:end]
	}
	assert.Contains(t, phase(1), "hub_port_connect")
	assert.Contains(t, phase(2), "devm_add_action")
	assert.Contains(t, phase(2), "driver_bound /sys/devices/usb1/1-1/1-1:1.0")
	assert.Contains(t, phase(3), "[reader] schedule: block usb_start_wait_urb")
	assert.Contains(t, phase(4), "usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep81 status=-ESHUTDOWN")
	assert.Contains(t, phase(4), "devm_action_release /sys/devices/usb1/1-1/1-1:1.0: revocable_provider_revoke skel 1-1:1.0")
	assert.Contains(t, phase(5), "block synchronize_srcu")
	assert.Contains(t, phase(5), "skel_disconnect /sys/devices/usb1/1-1/1-1:1.0")
	assert.Contains(t, phase(5), "devres_release_all /sys/devices/usb1/1-1/1-1:1.0: 1 action")
	assert.Contains(t, phase(5), "kfree: skel hw state")
	assert.Contains(t, phase(6), "do_filp_open /dev/skel0: -ENOENT")
	assert.Contains(t, phase(7), "revocable_provider_release skel 1-1:1.0: released")
	assert.Contains(t, phase(9), "kfree: bulk_in_buffer")
	assert.Contains(t, phase(10), "BUG: KASAN: use-after-free")
	assert.Contains(t, phase(11), "drvsim explore -mode random -seed 1")
}

// Every part of a trace line and every task the default demo shows is
// explained before the first phase: the legend names the tasks that run
// and the kinds of schedule lines that appear.
func TestDefaultDemoExplainsItsTraceLines(t *testing.T) {
	_, out, _ := runCLI()
	legend, _, ok := strings.Cut(out, "\n== 1. ")
	require.True(t, ok)
	tasks := regexp.MustCompile(`(?m)^ *\d+ \[([a-z]+)\] `).FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, tasks)
	for _, m := range tasks {
		assert.Contains(t, legend, m[1]+" ", "task %s is not explained", m[1])
	}
	kinds := regexp.MustCompile(`schedule: (start|block|exit) `).FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, kinds)
	for _, m := range kinds {
		assert.Contains(t, legend, m[1], "schedule kind %q is not explained", m[1])
	}
	assert.Contains(t, legend, "do_exit")
	// The one wait a learner cannot look up in the kernel is named in
	// its phase's heading.
	assert.Contains(t, out, "the process waits for the remove uevent")
	assert.Contains(t, out, "[reader] schedule: block remove uevent -> unplug")
}

// The default demo ends with a drvsim command that prints the failing run
// it has shown: the same report, the same schedule and the same events,
// when run as a separate process.
func TestDefaultDemoReplayPrintsTheRun(t *testing.T) {
	rc, out, errs := runBinary(t, "")
	require.Equal(t, 0, rc, errs)
	last := out[strings.LastIndex(out, "\n== "):]
	cmdLine := regexp.MustCompile(`(?m)^drvsim (explore .*)$`).FindStringSubmatch(last)
	require.NotNil(t, cmdLine, "no drvsim command in the last phase:\n%s", last)
	assert.Contains(t, last, "go run ./cmd/drvsim "+cmdLine[1]+")", "the same command for a checkout")
	args := strings.Fields(cmdLine[1])

	rc, again, errs := runBinary(t, "", args...)
	require.Equal(t, 0, rc, "%v: %s", args, errs)
	assert.Contains(t, again, "failure found in schedule 1\n")

	// The report, between the sanitizer's rulers, is the demo's.
	report := func(s string) string {
		ruler := "==================================================================\n"
		i := strings.Index(s, ruler)
		require.GreaterOrEqual(t, i, 0, s)
		j := strings.Index(s[i+len(ruler):], ruler)
		require.GreaterOrEqual(t, j, 0, s)
		return s[i : i+2*len(ruler)+j]
	}
	assert.Equal(t, report(out), report(again))

	// So are the schedule's steps and the failing run's last events.
	steps := func(s string) []string {
		return regexp.MustCompile(`(?m)^ +\d+ \S+ +.* -> .*$`).FindAllString(s, -1)
	}
	demoSteps := steps(out[strings.Index(out, "\nschedule:\n"):strings.LastIndex(out, "\n== ")])
	require.NotEmpty(t, demoSteps)
	assert.Equal(t, demoSteps, steps(again[strings.Index(again, "\nschedule (last"):strings.Index(again, "\ntrace (last")]))
	phase9 := out[strings.Index(out, "\n== 9. "):strings.Index(out, "\n== 10. ")]
	for _, l := range strings.Split(strings.TrimSpace(phase9), "\n")[len(strings.Split(strings.TrimSpace(phase9), "\n"))-5:] {
		assert.Contains(t, again, l+"\n", "the replay's trace")
	}
}

func TestDemoListAndNamedDemos(t *testing.T) {
	rc, out, _ := runCLI("demo")
	require.Equal(t, 0, rc)
	for _, d := range demos {
		assert.Contains(t, out, d.name)
	}
	for _, name := range []string{"usb-unplug", "probe-failure", "deferred-probe", "device-links", "drm-unplug", "cdev-unbind", "devres"} {
		assert.Contains(t, out, "  "+name+" ")
	}

	rc, out, _ = runCLI("demo", "devres")
	require.Equal(t, 0, rc)
	assert.Less(t, strings.Index(out, "release /sys/devices/platform/serial0: iounmap"),
		strings.Index(out, "release /sys/devices/platform/serial0: clk_disable_unprepare"))

	rc, out, _ = runCLI("demo", "drm-unplug")
	require.Equal(t, 0, rc)
	assert.Contains(t, out, "drm_dev_unplug")
	assert.Contains(t, out, "== 7. close drops the last reference")

	rc, out, _ = runCLI("demo", "cdev-unbind")
	require.Equal(t, 0, rc, out)
	assert.Contains(t, out, "[process] sim: BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)")
	assert.Contains(t, out, "Freed by task unbind")
	assert.Contains(t, out, "replay: drvsim explore -schedule ")
	assert.Contains(t, out, "[unbind] cdev_revoke sensor0: done: 1 open file(s) released and detached")
	assert.Contains(t, out, "[process] device_release /sys/devices/platform/sensor/sensor/sensor0")
	assert.NotContains(t, out[strings.Index(out, "== 5. "):], "BUG:", "the fixed drivers are not reported")

	rc, out, _ = runCLI("demo", "probe-failure")
	require.Equal(t, 0, rc, out)
	assert.Contains(t, out, "call_driver_probe /sys/devices/platform/sensor: driver=sensor ret=-EIO: probe failed")
	assert.Contains(t, out, "BUS_NOTIFY_DRIVER_NOT_BOUND")
	assert.Less(t, strings.Index(out, "devm_action_release /sys/devices/platform/sensor: free_irq"),
		strings.Index(out, "devm_action_release /sys/devices/platform/sensor: regulator_disable"))
	assert.Less(t, strings.Index(out, "devm_action_release /sys/devices/platform/sensor: regulator_disable"),
		strings.Index(out, "devm_action_release /sys/devices/platform/sensor: clk_disable_unprepare"))
	assert.Contains(t, out, "platform/sensor bus=platform state=added")
	assert.NotContains(t, out, "bind DRIVER=sensor")

	rc, out, _ = runCLI("demo", "deferred-probe")
	require.Equal(t, 0, rc, out)
	assert.Contains(t, out, "call_driver_probe /sys/devices/platform/codec: driver=codec ret=-EPROBE_DEFER")
	assert.Less(t, strings.Index(out, "driver_deferred_probe_trigger"),
		strings.Index(out, "deferred_probe_work_func /sys/devices/platform/codec: retrying"))
	assert.Contains(t, out, "driver_bound /sys/devices/platform/codec: driver=codec: bound")
	assert.Contains(t, out, "deferred_probe_timeout_work_func /sys/devices/platform/dsp: deferred probe pending")
	assert.Contains(t, out, "driver_bound /sys/devices/platform/gpu")

	rc, out, _ = runCLI("demo", "device-links")
	require.Equal(t, 0, rc, out)
	assert.Contains(t, out, "device_links_check_suppliers /sys/devices/platform/panel: probe deferral - supplier pwm not ready")
	unbind := out[strings.Index(out, "unbind_store /sys/devices/platform/pwm"):]
	assert.Less(t, strings.Index(unbind, "__device_release_driver /sys/devices/platform/panel"),
		strings.Index(unbind, "__device_release_driver /sys/devices/platform/pwm"), "the consumer unbinds first")
	assert.Contains(t, out, "-EPROBE_DEFER")

	rc, _, errs := runCLI("demo", "nope")
	assert.Equal(t, 2, rc)
	assert.Contains(t, errs, `no demo "nope"`)
}

// Every demo runs in every format, deterministically; the headings are
// in the text and mermaid output, never in the JSON.
func TestEveryDemoInEveryFormat(t *testing.T) {
	for _, d := range demos {
		for _, f := range trace.Formats {
			t.Run(d.name+"/"+string(f), func(t *testing.T) {
				rc, out, errs := runCLI("demo", "-format", string(f), d.name)
				require.Equal(t, 0, rc, errs)
				_, again, _ := runCLI("demo", d.name, "-format", string(f))
				assert.Equal(t, out, again, "deterministic, flags before or after the name")
				switch f {
				case trace.FormatText:
					assert.Contains(t, out, "== 1. ")
					assert.Empty(t, errs)
				case trace.FormatJSON:
					checkJSONLines(t, out)
					assert.Contains(t, errs, "== 1. ", "the narration goes to stderr")
				case trace.FormatMermaid:
					checkMermaid(t, out)
					assert.Empty(t, errs)
				}
			})
		}
	}
}

// checkJSONLines asserts that every line of out is a JSON object with
// exactly the fields seq, task, kind, dev, func and msg. (seq increases
// within a run; a demo of two runs starts again with the second.)
func checkJSONLines(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.NotEmpty(t, lines)
	for i, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "line %d: %s", i+1, l)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		assert.ElementsMatch(t, []string{"seq", "task", "kind", "dev", "func", "msg"}, keys, "line %d", i+1)
		seq, ok := m["seq"].(float64)
		require.True(t, ok, "line %d: seq is a number", i+1)
		assert.Positive(t, seq, "line %d", i+1)
	}
}

// checkMermaid asserts that out is a Markdown document whose first fenced
// block is a Mermaid sequence diagram, with numbered headings.
func checkMermaid(t *testing.T, out string) {
	t.Helper()
	assert.True(t, strings.HasPrefix(out, "# drvsim "), "a Markdown title first")
	fence := strings.Index(out, "```")
	require.GreaterOrEqual(t, fence, 0)
	assert.True(t, strings.HasPrefix(out[fence:], "```mermaid\nsequenceDiagram\n"), "the first block is a mermaid diagram: %q", out[fence:min(len(out), fence+40)])
	assert.Contains(t, out, "\n## 1. ")
	assert.Equal(t, 0, strings.Count(out, "```")%2, "fences are balanced")
	assert.NotContains(t, out, "\n== ")
}

// The default demo as a subprocess: --format json is pure JSON lines on
// stdout, --format mermaid a Markdown document starting with a diagram.
func TestDefaultDemoFormatsAsSubprocess(t *testing.T) {
	rc, out, errs := runBinary(t, "", "--format", "json")
	require.Equal(t, 0, rc, errs)
	checkJSONLines(t, out)
	assert.Contains(t, errs, "== 1. plug:")
	assert.Contains(t, errs, "BUG: KASAN: use-after-free")
	assert.Contains(t, out, `"func":"revocable_provider_revoke"`)

	rc, out, errs = runBinary(t, "", "-format=mermaid")
	require.Equal(t, 0, rc, errs)
	checkMermaid(t, out)
	assert.Contains(t, out, "## 1. plug:")
	assert.Contains(t, out, "```text\n==================================================================\nBUG: KASAN: use-after-free")
}

// --help and -h, on drvsim and on every subcommand, print the usage on
// stdout with status 0.
func TestHelpIsStatusZeroOnStdout(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"-help"}, {"help"}, {"help", "help"},
		{"demo", "--help"}, {"demo", "-h"}, {"help", "demo"},
		{"explore", "--help"}, {"explore", "-h"}, {"help", "explore"},
		{"shell", "--help"}, {"help", "shell"},
	} {
		rc, out, errs := runBinary(t, "", args...)
		assert.Equal(t, 0, rc, "%v: %s", args, errs)
		assert.Contains(t, out, "usage:", args)
		assert.Empty(t, errs, args)
	}
	_, out, _ := runBinary(t, "", "help", "explore")
	for _, w := range []string{"-format", "-seed", "-schedule", "usb-skel-broken", "merged-copied-provider"} {
		assert.Contains(t, out, w)
	}
	_, out, _ = runBinary(t, "", "demo", "--help")
	assert.Contains(t, out, "probe-failure")
}

// Bad usage is status 2, with one line on stderr that says what is wrong
// and where the usage is, and nothing on stdout.
func TestBadUsageIsStatusTwo(t *testing.T) {
	for _, args := range [][]string{
		{"nope"}, {"-bogus"}, {"--format", "yaml"}, {"--format", "json", "extra"},
		{"demo", "nope"}, {"demo", "a", "b"}, {"demo", "-format", "yaml", "devres"}, {"demo", "-bogus"},
		{"explore"}, {"explore", "no-such"}, {"explore", "-mode", "x", "drvsim-copied-provider"},
		{"explore", "-bogus"}, {"explore", "a", "b"}, {"explore", "-format", "svg", "drvsim-copied-provider"},
		{"help", "nope"}, {"help", "a", "b"}, {"version", "x"},
		{"explore", "-schedules", "0", "usb-skel-revocable"}, {"shell", "--bogus"}, {"shell", "testdata"},
	} {
		rc, out, errs := runBinary(t, "", args...)
		assert.Equal(t, 2, rc, args)
		assert.Regexp(t, `^drvsim( [a-z]+)?: [^\n]+ \(see drvsim help( [a-z]+)?\)\n$`, errs, "one line: %v", args)
		assert.Empty(t, out, args)
	}
	_, _, errs := runCLI("demo", "nope")
	assert.Equal(t, "drvsim demo: no demo \"nope\" (see drvsim help demo)\n", errs)
	_, _, errs = runCLI("-bogus")
	assert.Equal(t, "drvsim: flag provided but not defined: -bogus (see drvsim help)\n", errs)
	_, _, errs = runCLI("help", "nope")
	assert.Equal(t, "drvsim help: unknown command \"nope\" (see drvsim help)\n", errs)
}

// A run that does not end as predicted is status 1: no bug where one is
// expected; so is a replay that diverges, which finds nothing and gives no
// replay command.
func TestFailedRunIsStatusOne(t *testing.T) {
	rc, _, errs := runBinary(t, "", "explore", "-mode", "random", "-seed", "2", "-schedules", "5", "usb-skel-broken")
	assert.Equal(t, 1, rc)
	assert.Contains(t, errs, "expected a use-after-free, found no failure")

	rc, out, errs := runBinary(t, "", "explore", "-schedule", "read*9", "drvsim-copied-provider")
	assert.Equal(t, 1, rc)
	assert.Contains(t, out, "explore (replay): 1 schedule, replay diverged at step ")
	assert.Contains(t, out, ": wanted read, enabled {")
	assert.NotContains(t, out, "BUG")
	assert.NotContains(t, out, "replay: ")
	assert.Contains(t, errs, "drvsim: drvsim-copied-provider: the replay diverged: nothing was found")
}

// A schedule naming a task the scenario does not have is bad usage: status
// 2, no report, no replay command (the issue's `-schedule nosuchtask`
// reported a bug and printed -schedule ”).
func TestReplayOfUnknownTaskIsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"explore", "-schedule", "nosuchtask", "usb-skel-broken"},
		{"explore", "-schedule", "", "usb-skel-broken"},
		{"explore", "-schedule", "reader*300000000", "usb-skel-broken"},
		{"explore", "-schedule", "*1*8888888822,,1**", "usb-skel-broken"},
		{"explore", "-shard", "3/2", "usb-skel-broken"},
		{"explore", "-time", "-1s", "usb-skel-broken"},
	} {
		rc, out, errs := runBinary(t, "", args...)
		assert.Equal(t, 2, rc, args)
		assert.Empty(t, out, args)
		assert.NotContains(t, errs, "BUG", args)
		assert.NotContains(t, errs, "-schedule ''", args)
	}
	_, _, errs := runBinary(t, "", "explore", "-schedule", "nosuchtask", "usb-skel-broken")
	assert.Contains(t, errs, `drvsim: -schedule: the schedule names a task the scenario does not have: "nosuchtask" (its tasks: reader, unplug, hardware)`)
}

func TestExploreMatchesPredictions(t *testing.T) {
	rc, out, _ := runCLI("explore", "merged-copied-provider")
	require.Equal(t, 0, rc, out)
	assert.Contains(t, out, "use-after-free in kref_get_unless_zero")
	assert.Contains(t, out, "as predicted")
	assert.Contains(t, out, "replay: drvsim explore -schedule '")
	assert.NotContains(t, out, "go test")

	rc, out, _ = runCLI("explore", "drvsim-copied-provider")
	require.Equal(t, 0, rc, out)
	assert.Contains(t, out, "space exhausted, no failure")

	rc, out, _ = runCLI("explore", "-preemptions", "1", "usb-skel-revocable")
	require.Equal(t, 0, rc, out)
	assert.Contains(t, out, "space exhausted, no failure")

	rc, out, errs := runCLI("explore", "-format", "json", "usb-skel-broken")
	require.Equal(t, 0, rc, errs)
	checkJSONLines(t, out)
	assert.Contains(t, errs, "BUG: KASAN: use-after-free")

	rc, out, _ = runCLI("explore", "-format", "mermaid", "merged-copied-provider")
	require.Equal(t, 0, rc)
	checkMermaidExplore(t, out)
}

// The driver core's lifecycle scenarios (package lifecycle) are listed and
// explore exhaustively with no failing schedule; the schedule
// docs/testing.md quotes for device_del replays from the command line.
func TestExploreLifecycleScenarios(t *testing.T) {
	_, help, _ := runCLI("help", "explore")
	for _, name := range []string{"async-probe-vs-rmmod", "async-attach-vs-rmmod", "async-probe-vs-unplug", "revocable-readers-vs-unregister"} {
		assert.Contains(t, help, "\n  "+name+" ")
		rc, out, errs := runCLI("explore", name)
		require.Equal(t, 0, rc, "%s: %s%s", name, out, errs)
		assert.Contains(t, out, "== "+name+" (driver core): ")
		assert.Contains(t, out, "space exhausted, no failure")
		assert.Contains(t, out, "as predicted: no schedule fails")
		assert.Empty(t, errs)

		rc, out, errs = runCLI("explore", "-mode", "random", "-schedules", "20", name)
		require.Equal(t, 0, rc, "%s: %s%s", name, out, errs)
		assert.Contains(t, out, "explore (random): 20 schedules, no failure")
	}
	rc, out, errs := runCLI("explore", "-schedule", "async_probe,unplug*3,async_probe", "async-probe-vs-unplug")
	require.Equal(t, 0, rc, out+errs)
	assert.Contains(t, out, "explore (replay): 1 schedule, passed\nthe replayed schedule passes\n")
}

// Every registered scenario is listed with its default settings, and an
// exploration takes the scenario's defaults unless a flag overrides them.
func TestExploreUsesTheRegistry(t *testing.T) {
	_, help, _ := runCLI("help", "explore")
	for _, sc := range scenarios.All() {
		assert.Contains(t, help, fmt.Sprintf("\n  %-31s [%s] %s\n", sc.Name, settings(sc.Defaults), sc.Description))
	}
	assert.Contains(t, help, "  drm-udl-classic                 [exhaustive, at most 3 preemptions, 20000 schedules] ")
	assert.Contains(t, help, "  merged-copied-provider          [exhaustive, 20000 schedules] ")

	rc, out, errs := runCLI("explore", "drm-udl-classic")
	require.Equal(t, 0, rc, out+errs)
	assert.Contains(t, out, "== drm-udl-classic (udl classic driver): ")
	assert.Contains(t, out, "explore (exhaustive): 701 schedules, space exhausted, no failure", "its bound of 3 preemptions")
	rc, out, errs = runCLI("explore", "-preemptions", "1", "drm-udl-classic")
	require.Equal(t, 0, rc, out+errs)
	assert.Contains(t, out, "explore (exhaustive): 25 schedules, space exhausted, no failure")
	rc, out, errs = runCLI("explore", "-mode", "random", "-schedules", "3", "drm-udl-classic")
	require.Equal(t, 0, rc, out+errs)
	assert.Contains(t, out, "explore (random): 3 schedules, no failure")
	rc, out, errs = runCLI("explore", "-schedules", "2", "revocable-readers-vs-unregister")
	require.Equal(t, 0, rc, out+errs)
	assert.Contains(t, out, "explore (exhaustive): 2 schedules, no failure")
}

func checkMermaidExplore(t *testing.T, out string) {
	t.Helper()
	assert.True(t, strings.HasPrefix(out, "# drvsim explore merged-copied-provider\n"))
	assert.Contains(t, out, "## the failing run's trace\n\n```mermaid\nsequenceDiagram\n")
	assert.Contains(t, out, "## replay\n\n```text\nreplay: drvsim explore")
}

// replayLine returns the drvsim command of the first line of out that
// holds one ("replay: drvsim explore ..."),
// as arguments, the shell quotes removed.
func replayLine(t *testing.T, out string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)replay: drvsim (explore .*)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "no replay command in:\n%s", out)
	var args []string
	for _, a := range strings.Fields(m[1]) {
		args = append(args, strings.Trim(a, "'"))
	}
	return args
}

// The replay commands printed by the explorer are real: run, they fail
// the same way, in their first schedule. (The default demo's:
// TestDefaultDemoReplayPrintsTheRun.)
func TestReplayCommandsWork(t *testing.T) {
	for _, args := range [][]string{
		{"explore", "merged-copied-provider"},                           // exhaustive: a schedule
		{"explore", "-mode", "random", "merged-shared-handle"},          // random: a seed
		{"explore", "-mode", "pct", "v3-shared-handle"},                 // pct: a seed
		{"explore", "-mode", "random", "-seed", "1", "usb-skel-broken"}, // the demo's hunt
	} {
		rc, out, errs := runBinary(t, "", args...)
		require.Equal(t, 0, rc, errs)
		title := regexp.MustCompile(`(?m)^BUG: .*$`).FindString(out)
		require.NotEmpty(t, title, out)
		replay := replayLine(t, out)
		rc, again, errs := runBinary(t, "", replay...)
		require.Equal(t, 0, rc, "%v: %s", replay, errs)
		assert.Contains(t, again, title, replay)
		assert.Regexp(t, `failure found in schedule [12]\n|explore \(replay\): 1 schedule, failed\n`, again, replay)
		assert.Equal(t, replay, replayLine(t, again), "the replay replays itself")
	}
}

func TestReplayCommandForms(t *testing.T) {
	r := &sim.Result{Seed: 7, Mode: sim.Random}
	assert.Equal(t, "drvsim explore -mode random -seed 7 -schedules 1 x", replayCommand("x", r))
	r.Mode = sim.PCT
	assert.Equal(t, "drvsim explore -mode pct -seed 7 -schedules 2 x", replayCommand("x", r))
	r = &sim.Result{Replayed: true, Steps: []sim.Step{{Next: "a"}, {Next: "a"}, {Next: "b"}, {}}}
	assert.Equal(t, "drvsim explore -schedule 'a*2,b' x", replayCommand("x", r))
}

// The progress line is redrawn in place, throttled, always for the last
// call, and erased; it is never shown into a buffer or a pipe.
func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(0, 0)
	p := &progressLine{w: &b, name: "x", now: func() time.Time { return now }}
	p.update(sim.Progress{Schedules: 1, Limit: 100})
	p.update(sim.Progress{Schedules: 2, Limit: 100}) // too soon: skipped
	now = now.Add(progressInterval)
	p.update(sim.Progress{Schedules: 3, Limit: 100})
	p.update(sim.Progress{Schedules: 4, Limit: 100, Failed: true}) // last: always drawn
	assert.Equal(t, "\rexplore x: 1/100 schedules\rexplore x: 3/100 schedules\rexplore x: 4/100 schedules, failure found", b.String())
	b.Reset()
	p.clear()
	assert.Equal(t, "\r"+strings.Repeat(" ", len("explore x: 4/100 schedules, failure found"))+"\r", b.String())
	b.Reset()
	p.clear()
	assert.Empty(t, b.String(), "cleared once")

	assert.False(t, writesToTerminal(&b))
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	assert.False(t, writesToTerminal(w))
}

// The explorer shows no progress when its output is not a terminal.
func TestExploreNoProgressIntoPipes(t *testing.T) {
	rc, out, errs := runBinary(t, "", "explore", "-mode", "random", "-schedules", "50", "drvsim-shared-handle")
	require.Equal(t, 0, rc)
	assert.NotContains(t, out+errs, "\r")
	assert.Empty(t, errs)
}

// The shell, as a subprocess, runs a piped script to the end.
func TestShellSubprocess(t *testing.T) {
	rc, out, errs := runBinary(t, "help\nquit\n", "shell")
	assert.Equal(t, 0, rc, "stdout:\n%s\nstderr:\n%s", out, errs)
	assert.NotEmpty(t, out)
}

// -shard and -summary split an exploration across processes; -merge gives
// the verdict of the whole: the serial count, exhaustion and first
// failure, with a replay command that works.
func TestExploreShardsMerge(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, want string
	}{
		{"usb-skel-revocable", "explore (exhaustive): 1332 schedules in 3 shards, space exhausted, no failure\n"},
		{"merged-copied-provider", "explore (exhaustive): 3 schedules in 3 shards, failure found in schedule 3: BUG: KASAN: use-after-free in kref_get_unless_zero\n"},
	} {
		var files []string
		for k := 1; k <= 3; k++ {
			file := filepath.Join(dir, fmt.Sprintf("%s-%d.json", tc.name, k))
			files = append(files, file)
			rc, out, errs := runCLI("explore", "-shard", fmt.Sprintf("%d/3", k), "-summary", file, tc.name)
			assert.Contains(t, out, fmt.Sprintf(" in shard %d/3", k), errs)
			assert.Contains(t, []int{0, 1}, rc, "a shard without the predicted bug is status 1")
		}
		rc, out, errs := runCLI("explore", "-merge", strings.Join(files, ","), tc.name)
		require.Equal(t, 0, rc, out+errs)
		assert.Contains(t, out, tc.want)
		assert.Contains(t, out, "as predicted")
		if strings.Contains(tc.want, "failure found") {
			replay := replayLine(t, out)
			rc, again, errs := runCLI(replay...)
			require.Equal(t, 0, rc, errs)
			assert.Contains(t, again, "BUG: KASAN: use-after-free in kref_get_unless_zero")
		}
	}
	rc, _, errs := runCLI("explore", "-merge", filepath.Join(dir, "usb-skel-revocable-1.json"), "usb-skel-revocable")
	assert.Equal(t, 2, rc)
	assert.Contains(t, errs, "shard 2/3 missing")
}

// -time bounds an exploration and ends it with a coverage summary.
func TestExploreTimeBudget(t *testing.T) {
	rc, out, errs := runCLI("explore", "-mode", "random", "-time", "50ms", "-schedules", "100000000", "drvsim-shared-handle")
	require.Equal(t, 0, rc, out+errs)
	assert.Contains(t, out, ", time budget spent, no failure\ncoverage: ")
	assert.Contains(t, out, "; the time budget (50ms) ran out first\n")
	assert.Contains(t, out, "as predicted so far: no schedule failed (the time bound ran out first)")
}

// The command explores with the collector at sim.GCPercent unless the
// environment sets GOGC, which it then leaves alone.
func TestTuneGCUnlessGOGCIsSet(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	assert.False(t, tuneGC(func(string) string { return "50" }))
	assert.Equal(t, 100, debug.SetGCPercent(100), "GOGC set: untouched")
	assert.True(t, tuneGC(func(k string) string { return map[string]string{"HOME": "/root"}[k] }))
	assert.Equal(t, sim.GCPercent, debug.SetGCPercent(100))
}
