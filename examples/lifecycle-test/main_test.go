package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/examples/internal/outcheck"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// The program's story, the same output on a second run, and that output
// is testdata/output.golden, as go run prints it: docs/examples.md
// quotes it from there.
func TestRun(t *testing.T) {
	var a, b bytes.Buffer
	require.NoError(t, run(&a))
	out := a.String()
	outcheck.RequireInOrder(t, out,
		"correct driver: drvsim: run passed (forced schedule, 15 steps, 0 preemptions, virtual time 0s)",
		"buggy driver:   drvsim: run passed (forced schedule, 15 steps, 0 preemptions, virtual time 0s)",
		"explore (exhaustive): 86 schedules, space exhausted, no failure",
		"explore (random): 5 schedules, failure found in schedule 5",
		"BUG: KASAN: use-after-free in read TEMP register",
		"[unplug] devm_action_release /sys/devices/platform/mysensor: iounmap",
		"[unplug] kfree: mysensor registers (object #1)",
		"[unplug] schedule: devres devres_release_all revocable_provider_revoke mysensor -> reader",
		"[reader] sim: BUG: KASAN: use-after-free in read TEMP register",
		"replay: DRVSIM_SEED=5 go test -run '^TestBuggyDriverIsCaught$' ./examples/lifecycle-test",
		"replay seed: 5",
		"same schedule, same failure: true",
	)

	require.NoError(t, run(&b))
	require.Equal(t, out, b.String())
	outcheck.Golden(t, filepath.Join("testdata", "output.golden"), outcheck.AsProgram(out, "lifecycle-test"))
}
