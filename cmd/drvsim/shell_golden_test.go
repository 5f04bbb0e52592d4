package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// updateShell rewrites the shell's golden transcripts only; -update
// rewrites them with every other golden file of the command:
//
//	go test ./cmd/drvsim -run TestShellGolden -update-shell
var updateShell = flag.Bool("update-shell", false, "rewrite testdata/shell-*.golden from the shell scripts")

// Every script testdata/NAME.drvsh is a lesson; its whole transcript
// (standard output and error interleaved, as a terminal shows them) must
// equal testdata/shell-NAME.golden byte for byte, and it must succeed.
func TestShellGolden(t *testing.T) {
	scripts, err := filepath.Glob("testdata/*.drvsh")
	require.NoError(t, err)
	require.Contains(t, scripts, filepath.Join("testdata", "unplug-lesson.drvsh"))
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".drvsh")
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			rc := runShell([]string{script}, strings.NewReader(""), &b, &b)
			assert.Equal(t, 0, rc, "the lesson runs as it says\n%s", b.String())
			golden := filepath.Join("testdata", "shell-"+name+".golden")
			if *updateShell || *update {
				require.NoError(t, os.WriteFile(golden, b.Bytes(), 0o644))
			}
			assert.Equal(t, readShellFile(t, golden), b.String(), "run with -update-shell to accept a change")
		})
	}
}

func readShellFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// `drvsim shell` reaches runShell through run.
func TestShellFromMain(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run([]string{"shell", "--help"}, strings.NewReader(""), &out, &errb))
	assert.Contains(t, out.String(), "usage: drvsim shell")
	out.Reset()
	assert.Equal(t, 0, run([]string{"shell"}, strings.NewReader("bus add usb\n"), &out, &errb), errb.String())
	assert.Contains(t, out.String(), "usb1: USB bus 1, root hub with 4 ports")
}
