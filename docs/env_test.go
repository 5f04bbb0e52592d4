package docs_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// builds holds the programs runProgram built, once per test binary.
var builds struct {
	sync.Mutex
	dir  string
	bins map[string]string // package path -> binary
	errs map[string]error
}

// removeBuildDir removes the binaries built by program (TestMain's cleanup).
func removeBuildDir() {
	builds.Lock()
	defer builds.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
		builds.dir = ""
	}
}

// program builds the main package pkg (relative to the module root, e.g.
// "./examples/firstdriver") once and returns the binary's path.
func program(pkg string) (string, error) {
	builds.Lock()
	defer builds.Unlock()
	if bin, ok := builds.bins[pkg]; ok {
		return bin, builds.errs[pkg]
	}
	if builds.bins == nil {
		builds.bins, builds.errs = map[string]string{}, map[string]error{}
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "drvsim-doctrace-")
		if err != nil {
			return "", err
		}
		builds.dir = dir
	}
	bin := filepath.Join(builds.dir, filepath.Base(pkg))
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, pkg)...) // go test puts its own go first on PATH
	cmd.Dir = ".."                                  // the module root
	out, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	builds.bins[pkg], builds.errs[pkg] = bin, err
	return bin, err
}

// runProgram runs the program built from pkg with args, from the module root, as
// "go run pkg args..." would, and returns its standard output. A non-zero
// exit is an error carrying the standard error.
func runProgram(pkg string, args ...string) (string, error) {
	bin, err := program(pkg)
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Dir = ".."
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %v: %v\n%s", pkg, args, err, stderr.Bytes())
	}
	return stdout.String(), nil
}
