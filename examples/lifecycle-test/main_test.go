package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// requireInOrder checks that every line of want appears in out, in that
// order. Trace lines are compared without their sequence number.
func requireInOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		for i < len(lines) && strings.TrimLeft(lines[i], " 0123456789") != w {
			i++
		}
		require.Less(t, i, len(lines), "missing, or out of order: %q\noutput:\n%s", w, out)
		i++
	}
}

// The program's story, and the same output on a second run.
func TestRun(t *testing.T) {
	var a, b bytes.Buffer
	require.NoError(t, run(&a))
	out := a.String()
	requireInOrder(t, out,
		"correct driver: drvsim: run passed (forced schedule, 15 steps, 0 preemptions, virtual time 0s)",
		"buggy driver:   drvsim: run passed (forced schedule, 15 steps, 0 preemptions, virtual time 0s)",
		"explore (exhaustive): 88 schedules, space exhausted, no failure",
		"explore (random): 4 schedules, failure found in schedule 4",
		"BUG: KASAN: use-after-free in read TEMP register",
		"[unplug] devm_action_release /sys/devices/platform/mysensor: iounmap",
		"[unplug] kfree: mysensor registers (object #1)",
		"[unplug] devm_action_release /sys/devices/platform/mysensor: revocable_provider_revoke mysensor",
		"[reader] sim: BUG: KASAN: use-after-free in read TEMP register",
		"replay: DRVSIM_SEED=4 go test -run '^TestBuggyDriverIsCaught$' ./examples/lifecycle-test",
		"replay seed: 4",
		"same schedule, same failure: true",
	)

	require.NoError(t, run(&b))
	require.Equal(t, out, b.String())
}
