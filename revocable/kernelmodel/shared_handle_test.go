package kernelmodel_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kernelSharedHandle are the shared-handle experiments on the kernel's
// designs, by their registry names.
var kernelSharedHandle = []struct {
	name string
	run  func(*sim.Sim)
	srcu string // the SRCU domain's name in the model
}{
	{"v3-shared-handle", kernelmodel.V3SharedHandle, "rp->srcu"},
	{"merged-shared-handle", kernelmodel.MergedSharedHandle, "rp->srcu"},
	{"v8-shared-handle", kernelmodel.V8SharedHandle, "rp->srcu"},
	{"v10-shared-handle", kernelmodel.V10SharedHandle, "rev->srcu"},
}

// assertHungRevoke checks a shared-handle failure: the revoke is the one
// task left, blocked in synchronize_srcu, and the chain names the reader
// whose lock is unmatched; the trace shows the unlock in the wrong epoch.
func assertHungRevoke(t *testing.T, f *sim.Result, srcu string) {
	t.Helper()
	require.Equal(t, sim.BugDeadlock, f.Failure.Kind, f.String())
	text := f.String()
	assert.Contains(t, text, "BUG: deadlock: 1 task blocked forever")
	assert.Contains(t, text, "INFO: task unbind blocked on synchronize_srcu "+srcu+" (scan 2:")
	assert.Regexp(t, `wait-for chain:\n  unbind -> \[synchronize_srcu `+regexp.QuoteMeta(srcu)+` \(scan 2: idx \d has 1 locks, 0 unlocks\)\] -> reader[12] \(not blocked\)`, text)
	assert.Contains(t, f.TraceText(), "wrong epoch")
	assert.Contains(t, f.TraceText(), "srcu_flip "+srcu)
}

func TestSharedHandleRandomExplorationHangsRevoke(t *testing.T) {
	for _, sc := range kernelSharedHandle {
		t.Run(sc.name, func(t *testing.T) {
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 500, Config: sim.EnvConfig(t.Name(), 1)}, sc.run)
			require.True(t, res.Failed(), "500 random schedules should hang the revoke")
			f := res.Failure
			assertHungRevoke(t, f, sc.srcu)
			assert.Contains(t, f.ReplayHint(), fmt.Sprintf("%s=%d ", sim.EnvSeed, f.Seed))
			t.Logf("%s", res)
			requireSeedReplay(t, f, sc.run)
		})
	}
}

func TestSharedHandleExhaustiveExplorationHangsRevoke(t *testing.T) {
	for _, sc := range kernelSharedHandle {
		t.Run(sc.name, func(t *testing.T) {
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 5000,
				Config: sim.EnvConfig(t.Name(), 1)}, sc.run)
			require.True(t, res.Failed(), res.String())
			f := res.Failure
			assertHungRevoke(t, f, sc.srcu)
			assert.Equal(t, 1, f.Preemptions, "one preemption is enough: a reader preempted inside its section")
			assert.Contains(t, f.ReplayHint(), sim.EnvSchedule+"=")
			t.Logf("%s", res)
			requireScheduleReplay(t, f, sc.run)
		})
	}
}
