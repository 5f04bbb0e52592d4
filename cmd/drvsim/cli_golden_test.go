package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cliGoldens are the command lines docs/cli.md quotes. Each one's output,
// from an in-process run, is kept byte for byte in testdata/cli-NAME.golden
// (regenerate with go test ./cmd/drvsim -update), NAME being cliGoldenName
// of its arguments, and docs/cli_test.go cuts the page's excerpts from
// those files: the docs need no build of the command. (The default demo's
// text output is default-demo.golden, kept by TestDefaultDemoGolden.)
//
// A golden file holds one of two things:
//
//   - standard output only (transcript false): the run must succeed; its
//     standard error is not kept (the page quotes such a command without
//     it, e.g. 2>/dev/null).
//   - a transcript (transcript true): standard output and standard error
//     through one writer, in the order the command wrote them, as a
//     terminal shows them, then a last line "exit status N" (statusLine)
//     with the command's exit status.
var cliGoldens = []struct {
	args       []string
	transcript bool
	status     int // the status the run must end with
}{
	{args: []string{"help"}},
	{args: []string{"demo"}},
	{args: []string{"demo", "probe-failure"}},
	{args: []string{"demo", "device-links"}},
	{args: []string{"demo", "usb-rmmod"}},
	{args: []string{"--format", "json"}},
	{args: []string{"-format", "mermaid"}},
	{args: []string{"explore", "merged-copied-provider"}, transcript: true},
	{args: []string{"explore", "-mode", "random", "merged-shared-handle"}, transcript: true},
	{args: []string{"explore", "usb-skel-revocable"}, transcript: true},
	{args: []string{"explore", "-mode", "random", "-seed", "2", "-schedules", "5", "usb-skel-broken"}, transcript: true, status: 1},
}

// cliGoldenName names the golden file of drvsim ARGS, cli-NAME.golden:
// NAME is the arguments without the dashes that start flags, joined by
// '-' (drvsim explore -mode random x: explore-mode-random-x).
// docs/cli_test.go names the files by the same rule.
func cliGoldenName(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = strings.TrimLeft(a, "-")
	}
	return strings.Join(parts, "-")
}

// statusLine is the last line of a transcript golden file.
const statusLine = "exit status %d\n"

// TestCLIGolden runs every command line of cliGoldens in-process and
// compares what it prints with its golden file (stack frames' line numbers
// masked, as in TestDefaultDemoGolden; -update refreshes them).
func TestCLIGolden(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range cliGoldens {
		name := cliGoldenName(c.args)
		require.False(t, seen[name], "two goldens named %q", name)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			var got string
			if c.transcript {
				var b bytes.Buffer
				rc := run(c.args, strings.NewReader(""), &b, &b)
				require.Equal(t, c.status, rc, "drvsim %s:\n%s", strings.Join(c.args, " "), b.String())
				require.True(t, b.Len() == 0 || strings.HasSuffix(b.String(), "\n"), "the status line starts a line")
				got = b.String() + fmt.Sprintf(statusLine, rc)
			} else {
				rc, out, errs := runCLI(c.args...)
				require.Equal(t, c.status, rc, "drvsim %s:\n%s", strings.Join(c.args, " "), errs)
				got = out
			}
			golden := filepath.Join("testdata", "cli-"+name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./cmd/drvsim -update to create it")
			assert.Equal(t, maskLines(string(want)), maskLines(got),
				"drvsim %s changed: review, then go test ./cmd/drvsim -update", strings.Join(c.args, " "))
		})
	}
	// No golden file is left behind by a removed entry.
	files, err := filepath.Glob(filepath.Join("testdata", "cli-*.golden"))
	require.NoError(t, err)
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "cli-"), ".golden")
		assert.True(t, seen[name], "%s: no entry in cliGoldens; remove the file", f)
	}
}
