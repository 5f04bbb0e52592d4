package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/zoo"
)

// checkZooGolden compares out with testdata/NAME.golden (frame line
// numbers masked), rewriting it with -update.
func checkZooGolden(t *testing.T, name, out string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./cmd/drvsim -update to create it")
	assert.Equal(t, maskLines(string(want)), maskLines(out), "%s changed: review, then go test ./cmd/drvsim -update", path)
}

// `drvsim zoo` lists every bug of the zoo, reproduced or not.
func TestZooList(t *testing.T) {
	rc, out, errs := runCLI("zoo")
	require.Equal(t, 0, rc, errs)
	for _, b := range zoo.Bugs() {
		assert.Contains(t, out, "\n"+b.Name+" ")
		assert.Contains(t, out, b.ShortCommit()+" "+b.Subject)
	}
	assert.Contains(t, out, "not reproduced")
	checkZooGolden(t, "zoo-list", out)
}

// `drvsim zoo NAME` tells the bug's story, from the report to the fixed
// run, and exits 0 when both outcomes are the predicted ones; -time adds
// the explorations' times on stderr.
func TestZooStory(t *testing.T) {
	rc, out, errs := runCLI("zoo", "i2cdev-cdev")
	require.Equal(t, 0, rc, errs)
	assert.Empty(t, errs)
	for _, heading := range []string{"== i2cdev-cdev (", "== the report", "== the race", "== the bug found: i2cdev-cdev-before",
		"BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)", "replay: drvsim explore -schedule '",
		"== the fix", "== the fixed driver: i2cdev-cdev-after", "space exhausted, no failure"} {
		assert.Contains(t, out, heading)
	}
	checkZooGolden(t, "zoo-i2cdev-cdev", out)

	rc, _, errs = runCLI("zoo", "-time", "gpiolib-srcu")
	require.Equal(t, 0, rc, errs)
	assert.Contains(t, errs, "drvsim: gpiolib-srcu-before found in ")
	assert.Contains(t, errs, ", gpiolib-srcu-after proven in ")

	// The replay command the story prints replays the failure.
	line := out[strings.Index(out, "replay: drvsim explore"):]
	line = strings.TrimPrefix(line[:strings.Index(line, "\n")], "replay: drvsim ")
	args := []string{"explore", "-schedule", strings.Trim(strings.Fields(line)[2], "'"), "i2cdev-cdev-before"}
	rc, rout, errs := runCLI(args...)
	require.Equal(t, 0, rc, "%v: %s%s", args, rout, errs)
	assert.Contains(t, rout, "as predicted: the i2c-dev, before the fix has a use-after-free")
}

// A bug the zoo does not reproduce says why; bad names and arguments are
// usage errors.
func TestZooPendingAndBadUsage(t *testing.T) {
	rc, out, errs := runCLI("zoo", "udl-unplug-late")
	require.Equal(t, 0, rc, errs)
	assert.Contains(t, out, "== not reproduced\nNot reproduced. drvsim's DRM model has no KMS poll helper")
	rc, _, errs = runCLI("zoo", "no-such-bug")
	assert.Equal(t, 2, rc)
	assert.Contains(t, errs, `drvsim: no bug "no-such-bug" in the zoo`)
	rc, _, errs = runCLI("zoo", "a", "b")
	assert.Equal(t, 2, rc)
	assert.Contains(t, errs, "drvsim: zoo takes one bug name")
	rc, out, _ = runCLI("help", "zoo")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, "usage: drvsim zoo [-time] [NAME]")
}
