package docs_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tutorial.md: its program is examples/firstdriver, and its outputs are
// that program's, as the example's own tests keep them in
// examples/firstdriver/testdata/*.golden: output.golden is what go run
// prints, race.golden what the race tests find.
const firstdriver = "../examples/firstdriver"

func tutorialOutput() *excerpt {
	out, err := fileText(filepath.Join(firstdriver, "testdata", "output.golden"))()
	e := newExcerpt(out)
	e.err = err
	return e
}

func tutorialRace() *excerpt {
	out, err := fileText(filepath.Join(firstdriver, "testdata", "race.golden"))()
	e := newExcerpt(out)
	e.err = err
	return e
}

// tutorial-insmod: the module's init and ec.0's probe.
func tutorialInsmod() (string, error) {
	return tutorialOutput().section("insmod ec").section("plug ec.0").text()
}

// tutorial-probe-failure: ec.1's probe, refused and unwound.
func tutorialProbeFailure() (string, error) {
	return tutorialOutput().section("plug ec.1").text()
}

// tutorial-read: open and read of /dev/ec0.
func tutorialRead() (string, error) {
	return tutorialOutput().section("open /dev/ec0").text()
}

// tutorial-unbind: the unbind with the file open, the file after it, and
// the module's exit, to the end of the output.
func tutorialUnbind() (string, error) {
	return tutorialOutput().section("unbind ec.0").rest().text()
}

// tutorial-explore: TestReadVsUnbind's result.
func tutorialExplore() (string, error) {
	return tutorialRace().section("TestReadVsUnbind").text()
}

// tutorial-unbind-waits: a run of readVsUnbind in which the unbind waits
// for the read, from its first schedule point.
func tutorialUnbindWaits() (string, error) {
	return tutorialRace().line("== a run in which").line("drvsim: run passed").more().span("schedule: start -> read", "[read] do_exit").text()
}

// tutorial-raw: TestRawFileOpsCaught's report, without the trace part
// (the schedule above it tells the same story).
func tutorialRaw() (string, error) {
	return tutorialRace().span("== TestRawFileOpsCaught", "schedule (last").
		span("<setup>    start", "exit -> read").more().line("replay: ").text()
}

// TestTutorialProgramIsOnThePage checks that the tutorial shows its whole
// program, and only it, in file blocks: every file of examples/firstdriver
// that is not a test, and its race test, race_test.go. (The example's
// other tests are its own: main_test.go keeps the golden files,
// raw_test.go and sweep_test.go are quoted by excerpts.) TestGoBlocks
// checks that the blocks are the files, byte for byte.
func TestTutorialProgramIsOnThePage(t *testing.T) {
	onPage := tutorialFiles(t)
	srcs, err := filepath.Glob(filepath.Join(firstdriver, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range srcs {
		if base := filepath.Base(f); !strings.HasSuffix(base, "_test.go") || base == "race_test.go" {
			want = append(want, "examples/firstdriver/"+base)
		}
	}
	slices.Sort(want)
	got := slices.Sorted(func(yield func(string) bool) {
		for p := range onPage {
			if !yield(p) {
				return
			}
		}
	})
	if !slices.Equal(got, want) {
		t.Errorf("tutorial.md shows in file blocks %q; the program is %q", got, want)
	}
}

// tutorialFiles returns the files tutorial.md shows in file blocks: path
// (relative to the repository) to text, its blocks joined as
// TestGoBlocks joins them.
func tutorialFiles(t *testing.T) map[string]string {
	t.Helper()
	page, err := os.ReadFile("tutorial.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, problems := parseGoBlocks("tutorial.md", string(page))
	for _, p := range problems {
		t.Error(p)
	}
	parts := map[string][]string{}
	for _, b := range blocks {
		if b.kind == "file" {
			parts[b.path] = append(parts[b.path], b.text)
		}
	}
	files := map[string]string{}
	for p, texts := range parts {
		files[p] = strings.Join(texts, "\n\n") + "\n"
	}
	return files
}

// TestTutorialFollowedLiterally is the tutorial followed by a new user:
// the Go code of the page, and nothing else, is copied into a module of
// its own that requires drvsim; in it go vet passes, go test passes (the
// race test explores every interleaving and finds nothing), and go run
// prints what the page shows (examples/firstdriver/testdata/output.golden).
func TestTutorialFollowedLiterally(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command: %v", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for p, text := range tutorialFiles(t) {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod := "module example.com/ec\n\ngo 1.26\n\nrequire github.com/drvsim/drvsim v0.0.0\n\nreplace github.com/drvsim/drvsim => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Offline: what go.sum and the module cache hold, nothing else.
	env := append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"),
		"GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	gocmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goTool, args...)
		cmd.Dir, cmd.Env = dir, env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("go %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	gocmd("vet", ".")
	gocmd("test", "-count=1", ".")
	want, err := os.ReadFile(filepath.Join(firstdriver, "testdata", "output.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if got := gocmd("run", "."); got != string(want) {
		t.Errorf("go run of the page's program differs from output.golden (- golden, + run):\n%s",
			lineDiff(strings.Split(string(want), "\n"), strings.Split(got, "\n")))
	}
}
