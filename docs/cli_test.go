package docs_test

import (
	"fmt"
	"strings"
)

// cli.md quotes the drvsim command, run as the reader runs it:
// go run ./cmd/drvsim ARGS.
const drvsimCmd = "./cmd/drvsim"

// cliUsage: the usage lines of drvsim help.
func cliUsage() (string, error) {
	out, err := output(drvsimCmd, "help")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).span("usage:", "drvsim help [COMMAND]").text()
}

// cliDefaultDemo: the default demo's title, the start of phase 1, phases
// 5 and 8 and the replay commands of phase 11.
func cliDefaultDemo() (string, error) {
	out, err := output(drvsimCmd)
	if err != nil {
		return "", err
	}
	return newExcerpt(out).head(1).from("== 1.", 2).section("5.").section("8.").section("11.").text()
}

// cliDemoList: drvsim demo, the list of demos.
func cliDemoList() (string, error) {
	return output(drvsimCmd, "demo")
}

// cliProbeFailure: the failing probe and the unbound device of drvsim
// demo probe-failure.
func cliProbeFailure() (string, error) {
	out, err := output(drvsimCmd, "demo", "probe-failure")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).section("4.").section("5.").text()
}

// cliDeviceLinks: the unbind of the supplier in drvsim demo device-links,
// from the consumer's release to the supplier's.
func cliDeviceLinks() (string, error) {
	out, err := output(drvsimCmd, "demo", "device-links")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).from("== 6.", 3).line("__device_release_driver /sys/devices/platform/pwm").text()
}

// cliJSONHead: drvsim --format json 2>/dev/null | head -2, with the command.
func cliJSONHead() (string, error) {
	out, err := output(drvsimCmd, "--format", "json")
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
	out, err := output(drvsimCmd, "-format", "mermaid")
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
		{[]string{"-mode", "random", "-schedules", "5", "usb-skel-broken"}, 1, func(e *excerpt) *excerpt { return e.rest() }},
	}
	var b strings.Builder
	for i, r := range cmds {
		args := append([]string{"explore"}, r.args...)
		out, status, err := transcript(drvsimCmd, args...)
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
