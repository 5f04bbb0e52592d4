package docs_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// ownModuleHeading is the README section a new user reads to depend on
// drvsim.
const ownModuleHeading = "## Use drvsim in your own module"

// readmeSection returns the text of README.md's section under heading, up
// to the next heading of the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", heading)
	}
	level := heading[:strings.Index(heading, " ")+1] // "## "
	if i := strings.Index(rest, "\n"+level); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// fencedBlocks returns the contents of the blocks of text fenced as
// "```lang".
func fencedBlocks(text, lang string) []string {
	var out []string
	var cur []string
	in := false
	for _, l := range strings.Split(text, "\n") {
		switch {
		case !in && l == "```"+lang:
			in, cur = true, nil
		case in && l == "```":
			in = false
			out = append(out, strings.Join(cur, "\n")+"\n")
		case in:
			cur = append(cur, l)
		}
	}
	return out
}

// goTest runs `go test args...` in dir, offline, and returns its combined
// output and whether it passed. The module cache must hold drvsim's
// dependencies (building the repository fills it); GOPROXY=off keeps the
// go command from the network, GOFLAGS=-mod=mod lets it complete go.mod,
// GOWORK=off and GOTOOLCHAIN=local keep it to the module and the toolchain
// at hand. The test builds with this test binary's -race setting, so the
// drvsim packages come from the build cache.
func goTest(t *testing.T, dir string, env []string, args ...string) (string, bool) {
	t.Helper()
	full := []string{"test", "-count=1"}
	if raceBuild() {
		full = append(full, "-race")
	}
	cmd := exec.Command("go", append(full, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, failed := err.(*exec.ExitError); err != nil && !failed {
		t.Fatalf("go test in %s: %v", dir, err)
	}
	return out.String(), err == nil
}

// raceBuild reports whether this test binary was built with -race.
func raceBuild() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// replayRe matches the replay command of a failing exploration in the
// user's module.
var replayRe = regexp.MustCompile(`replay: (DRVSIM_SCHEDULE)=(\S+) go test -run '(\^TestShowVsUnbind\$)' \S+`)

// The README's "Use drvsim in your own module" is true as written: its Go
// block, saved as the only file of a new module that requires drvsim
// through a replace directive pointing at this checkout, passes go test
// offline; the same file without the device lock in show fails with a
// use-after-free and a replay command, and that command replays the
// failing run.
func TestReadmeOwnModule(t *testing.T) {
	t.Parallel()
	section := readmeSection(t, ownModuleHeading)
	if !strings.Contains(section, "go get github.com/drvsim/drvsim@latest") {
		t.Error("the section does not say how to go get drvsim")
	}
	blocks := fencedBlocks(section, "go")
	if len(blocks) != 1 {
		t.Fatalf("want one ```go block in %q, found %d", ownModuleHeading, len(blocks))
	}
	code := blocks[0]

	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := fmt.Sprintf("module example.com/mydriver\n\ngo 1.26\n\nrequire github.com/drvsim/drvsim v0.0.0\n\nreplace github.com/drvsim/drvsim => %q\n", root)
	// drvsim's own go.sum has the checksums of everything drvsim
	// requires: what go get writes into the user's go.sum.
	sum, err := os.ReadFile("../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"go.mod": gomod, "go.sum": string(sum), "mydriver_test.go": code} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, ok := goTest(t, dir, nil, ".")
	if !ok || !strings.Contains(out, "ok  \texample.com/mydriver") {
		t.Fatalf("the README's test does not pass in a module of its own:\n%s", out)
	}

	// Without the device lock, the exploration finds the use-after-free.
	unlocked := strings.Replace(code, "\tif dev.Lock() != nil {\n\t\treturn\n\t}\n\tdefer dev.Unlock()\n", "", 1)
	if unlocked == code {
		t.Fatal("no device lock to take out of show in the README's test")
	}
	if err := os.WriteFile(filepath.Join(dir, "mydriver_test.go"), []byte(unlocked), 0o644); err != nil {
		t.Fatal(err)
	}
	out, ok = goTest(t, dir, nil, ".")
	if ok || !strings.Contains(out, "BUG: KASAN: use-after-free in show") {
		t.Fatalf("without the device lock the README's test must find the use-after-free:\n%s", out)
	}
	m := replayRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no replay command in the failure:\n%s", out)
	}
	// The replay command runs the failing schedule, and only it.
	again, ok := goTest(t, dir, []string{m[1] + "=" + m[2]}, "-run", m[3], ".")
	if ok || !strings.Contains(again, "BUG: KASAN: use-after-free in show") || !strings.Contains(again, "forced schedule") {
		t.Fatalf("%s does not replay the failure:\n%s", m[0], again)
	}
}

// layoutPackages returns the package directories README.md's Layout table
// names (its first column's `code` spans, without a trailing slash; the
// root is "drvsim").
func layoutPackages(t *testing.T) []string {
	t.Helper()
	section := readmeSection(t, "## Layout")
	code := regexp.MustCompile("`([^`]+)`")
	var out []string
	for _, l := range strings.Split(section, "\n") {
		cells := strings.Split(l, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			out = append(out, strings.TrimSuffix(m[1], "/"))
		}
	}
	return out
}

// README.md's Layout table, which the section on using drvsim from
// another module calls the list of public packages, names every package
// of the module outside internal/, examples/, cmd/ and docs/, and names
// only directories that exist.
func TestReadmeLayoutListsEveryPackage(t *testing.T) {
	listed := layoutPackages(t)
	for _, p := range listed {
		dir := filepath.Join("..", filepath.FromSlash(p))
		if p == "drvsim" {
			dir = ".."
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("README.md's Layout names %s: no such directory", p)
		}
	}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, ".."+string(filepath.Separator)))
		if d.IsDir() {
			switch {
			case path == "..":
			case strings.HasPrefix(d.Name(), "."), d.Name() == "testdata",
				rel == "internal", rel == "examples", rel == "cmd", rel == "docs":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		if filepath.Dir(path) == ".." {
			pkg = "drvsim"
		}
		if !slices.Contains(listed, pkg) {
			t.Errorf("package %s is not in README.md's Layout table (the list of public packages)", pkg)
			listed = append(listed, pkg) // once
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
