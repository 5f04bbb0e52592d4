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
	dir     string
	entries map[string]*build // package path -> its build
}

// build is one program's build, done once.
type build struct {
	once sync.Once
	bin  string
	err  error
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
// "./examples/firstdriver") once and returns the binary's path. Builds of
// different programs may run at the same time (see prebuild).
func program(pkg string) (string, error) {
	builds.Lock()
	if builds.entries == nil {
		builds.entries = map[string]*build{}
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "drvsim-doctrace-")
		if err != nil {
			builds.Unlock()
			return "", err
		}
		builds.dir = dir
	}
	b := builds.entries[pkg]
	if b == nil {
		b = &build{}
		builds.entries[pkg] = b
	}
	dir := builds.dir
	builds.Unlock()
	b.once.Do(func() {
		b.bin = filepath.Join(dir, filepath.Base(pkg))
		args := []string{"build", "-o", b.bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, pkg)...) // go test puts its own go first on PATH
		cmd.Dir = ".."                                  // the module root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	return b.bin, b.err
}

// prebuild builds the programs concurrently and waits for them: linking is
// most of a build's time, and one link does not use both cores.
func prebuild(pkgs ...string) {
	var wg sync.WaitGroup
	for _, pkg := range pkgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = program(pkg) // an error is reported by the caller that needs it
		}()
	}
	wg.Wait()
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
