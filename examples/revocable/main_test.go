package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/examples/internal/outcheck"

	"github.com/drvsim/drvsim/sim"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestRevocable(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	outcheck.RequireInOrder(t, buf.String(),
		"revocable_provider_alloc cros_ec: refs=1",
		"revocable_init cros_ec: refs=2",
		"revocable_init cros_ec: refs=3",
		"say: 2. file A: TryAccess -> cros-ec, version read; Release",
		"say: file B: OrReturn -> cros-ec, features read",
		"say: file B: OrReturn returned <nil>",
		// The reader is inside its section when the revoke starts ...
		"[reader] say: 3. reader: inside the section, EC command sent, waiting for the answer",
		"[remove] revocable_provider_revoke cros_ec: start",
		"[remove] synchronize_srcu cros_ec: grace period 1 start",
		// ... so the revoke waits for it,
		"[remove] schedule: block synchronize_srcu cros_ec -> reader",
		"[reader] say: reader: answer read; Release",
		"[remove] synchronize_srcu cros_ec: grace period 1 done",
		"[remove] revocable_provider_revoke cros_ec: grace period done",
		// and only then are the registers freed.
		"[remove] kfree: cros_ec registers (object #1)",
		"[remove] say: remove: a new open -> revocable_init cros_ec: provider revoked: revocable: resource revoked (-ENODEV)",
		"[reader] say: 4. reader: TryAccess after the revoke -> <nil>",
		"[reader] say: reader: OrReturn after the revoke -> revocable_try_access cros_ec: revocable: resource revoked (-ENODEV)",
		"[reader] revocable_deinit cros_ec: refs=1",
		"[reader] revocable_deinit cros_ec: refs=0",
		"[reader] revocable_provider_release cros_ec: released",
		"drvsim: run passed (random, seed 1, 14 steps, 2 preemptions, virtual time 0s)",
	)
}

// The output is the same on every run, byte for byte, and is
// testdata/output.golden, as go run prints it: docs/examples.md quotes it
// from there.
func TestRevocableGolden(t *testing.T) {
	out := outcheck.AsProgram(outcheck.RunTwice(t, run), "revocable")
	outcheck.Golden(t, filepath.Join("testdata", "output.golden"), out)
}

// The example's schedule is one of many. Every interleaving of the reader
// and the remover passes: no read of freed registers, no leak, the
// provider released at the end.
func TestRevocableEverySchedule(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.Config{Test: t.Name()}}, scenario)
	require.False(t, res.Failed(), "%s", res)
	assert.True(t, res.Exhausted)
	t.Log(res)
}
