package docs_test

import (
	"fmt"
	"strconv"
	"strings"
)

// cli.md quotes the drvsim command, run as the reader runs it:
// go run ./cmd/drvsim ARGS. The command's own tests run each quoted
// command line in-process and keep its output in a golden file (see
// cliGoldens in cmd/drvsim/cli_golden_test.go); the generators below cut
// the page's excerpts from those files.

// cliOutput returns the standard output of drvsim ARGS, as its golden file
// holds it: cmd/drvsim/testdata/cli-NAME.golden, NAME being the arguments
// without the dashes that start flags, joined by '-' (the rule of
// cmd/drvsim's cliGoldenName); default-demo.golden without arguments.
func cliOutput(args ...string) (string, error) {
	name := "default-demo"
	if len(args) > 0 {
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = strings.TrimLeft(a, "-")
		}
		name = "cli-" + strings.Join(parts, "-")
	}
	return fileText("../cmd/drvsim/testdata/" + name + ".golden")()
}

// cliTranscript is what a terminal shows of drvsim ARGS (standard output
// and standard error interleaved) and its exit status, as its golden file
// (named as by cliOutput) holds them: the transcript, then a last line
// "exit status N".
func cliTranscript(args ...string) (string, int, error) {
	text, err := cliOutput(args...)
	if err != nil {
		return "", 0, err
	}
	i := strings.LastIndex(strings.TrimSuffix(text, "\n"), "\n") + 1
	n, ok := strings.CutPrefix(strings.TrimSuffix(text[i:], "\n"), "exit status ")
	status, err := strconv.Atoi(n)
	if !ok || err != nil {
		return "", 0, fmt.Errorf("drvsim %s: the golden transcript has no last line \"exit status N\": %q", strings.Join(args, " "), text[i:])
	}
	return text[:i], status, nil
}

// cliUsage: the usage lines of drvsim help.
func cliUsage() (string, error) {
	out, err := cliOutput("help")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).span("usage:", "drvsim version").text()
}

// cliDefaultDemo: the default demo's title and legend, the start of phase
// 1, phases 5 and 8 and the replay command of phase 11.
func cliDefaultDemo() (string, error) {
	out, err := cliOutput()
	if err != nil {
		return "", err
	}
	return newExcerpt(out).span("drvsim demo usb-unplug:", "bus notifier calls and uevents.").
		from("== 1.", 2).section("5.").section("8.").section("11.").text()
}

// cliDemoList: drvsim demo, the list of demos.
func cliDemoList() (string, error) {
	return cliOutput("demo")
}

// cliProbeFailure: the failing probe and the unbound device of drvsim
// demo probe-failure.
func cliProbeFailure() (string, error) {
	out, err := cliOutput("demo", "probe-failure")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).section("4.").section("5.").text()
}

// cliDeviceLinks: the unbind of the supplier in drvsim demo device-links,
// from the consumer's release to the supplier's.
func cliDeviceLinks() (string, error) {
	out, err := cliOutput("demo", "device-links")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).from("== 6.", 3).line("__device_release_driver /sys/devices/platform/pwm").text()
}

// cliUSBRmmod: the revocable skeleton's disconnect in drvsim demo
// usb-rmmod, from its revoke to devres.
func cliUSBRmmod() (string, error) {
	out, err := cliOutput("demo", "usb-rmmod")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).section("8.").section("9.").text()
}

// cliJSONHead: drvsim --format json 2>/dev/null | head -2, with the command.
func cliJSONHead() (string, error) {
	out, err := cliOutput("--format", "json")
	if err != nil {
		return "", err
	}
	head, err := newExcerpt(out).head(2).text()
	return "$ drvsim --format json 2>/dev/null | head -2\n" + head, err
}

// cliMermaidPhase: the start of phase 5 in drvsim -format mermaid. The
// excerpt ends inside the phase's ```mermaid block: a page's marked block
// cannot hold a line that is exactly ```.
func cliMermaidPhase() (string, error) {
	out, err := cliOutput("-format", "mermaid")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).from("## 5.", 11).more().text()
}

// cliExplore: four explorations as a terminal shows them, each after its
// command line: a use-after-free found exhaustively, a deadlock found by
// random schedules, a scenario where no schedule fails, and an exploration
// too short to find the bug it predicts (status 1, the verdict on stderr).
// Titles are cut after their first clause.
func cliExplore() (string, error) {
	cmds := []struct {
		args   []string
		status int
		cut    func(*excerpt) *excerpt
	}{
		{[]string{"merged-copied-provider"}, 0, func(e *excerpt) *excerpt { return e.head(5).tail(2) }},
		{[]string{"-mode", "random", "merged-shared-handle"}, 0, func(e *excerpt) *excerpt { return e.more().tail(2) }},
		{[]string{"usb-skel-revocable"}, 0, func(e *excerpt) *excerpt { return e.rest() }},
		{[]string{"-mode", "random", "-seed", "2", "-schedules", "5", "usb-skel-broken"}, 1, func(e *excerpt) *excerpt { return e.rest() }},
	}
	var b strings.Builder
	for i, r := range cmds {
		args := append([]string{"explore"}, r.args...)
		out, status, err := cliTranscript(args...)
		if err != nil {
			return "", err
		}
		if status != r.status {
			return "", fmt.Errorf("drvsim %s: status %d, want %d:\n%s", strings.Join(args, " "), status, r.status, out)
		}
		text, err := r.cut(newExcerpt(firstClause(out))).text()
		if err != nil {
			return "", fmt.Errorf("drvsim %s: %v", strings.Join(args, " "), err)
		}
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "$ drvsim %s", strings.Join(args, " "))
		if r.status != 0 {
			b.WriteString("; echo $?")
		}
		b.WriteString("\n" + text)
		if r.status != 0 {
			fmt.Fprintf(&b, "%d\n", status)
		}
	}
	return b.String(), nil
}

// firstClause shortens the title line that starts an exploration's output,
// "== NAME (DESIGN): DESCRIPTION", to the description's first clause (up
// to its first ';' or ':'), followed by " ...".
func firstClause(out string) string {
	title, rest, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(title, "== ") {
		return out
	}
	_, desc, ok := strings.Cut(title, "): ")
	if !ok {
		return out
	}
	if i := strings.IndexAny(desc, ";:"); i >= 0 && i < len(desc)-1 {
		title = title[:len(title)-len(desc)+i+1] + " ..."
	}
	return title + "\n" + rest
}
