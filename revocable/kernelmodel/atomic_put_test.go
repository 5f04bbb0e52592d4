package kernelmodel_test

import (
	"testing"

	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The last put in atomic context: on v3, the merged design and v8 the
// completion handler's put can be the last, and the provider's release
// then runs cleanup_srcu_struct with interrupts off. Each failure replays
// from its schedule.
func TestAtomicPutSleepsInAtomic(t *testing.T) {
	for _, tc := range []struct {
		name    string
		run     func(*sim.Sim)
		release string // the release function in the call trace
	}{
		{"v3-atomic-put", kernelmodel.V3AtomicPut, "v3.(*RevocableProvider).revocableProviderRelease"},
		{"merged-atomic-put", kernelmodel.MergedAtomicPut, "merged.(*RevocableProvider).revocableProviderRelease"},
		{"v8-atomic-put", kernelmodel.V8AtomicPut, "v8.(*Revocable).revocableRelease"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1000, Config: sim.EnvConfig(t.Name(), 1)}, tc.run)
			require.True(t, res.Failed(), res.String())
			f := res.Failure
			require.Equal(t, sim.BugLockdep, f.Failure.Kind, f.String())
			text := f.String()
			assert.Contains(t, text, "BUG: sleeping function called from invalid context at cleanup_srcu_struct")
			assert.Contains(t, text, "in_atomic(): 1, task: urb_complete")
			assert.Contains(t, text, "atomic because of: irqs off, spinlock hcd->lock")
			assert.Contains(t, text, tc.release)
			requireScheduleReplay(t, f, tc.run)
		})
	}
}

// On v10 the handler's last put only queues the release: the worker of
// the system workqueue, a task of its own, runs cleanup_srcu_struct and
// frees the provider, in the schedule where the handler's put is the last.
func TestV10AtomicPutDefersToWorker(t *testing.T) {
	// The handler runs to its end first; unbind's puts follow, so the
	// handler's is not the last: replay the other order too.
	found := false
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1000, Config: sim.EnvConfig(t.Name(), 1)}, func(s *sim.Sim) {
		kernelmodel.V10AtomicPut(s)
		s.AddLeakCheck("last put", func() []string {
			tr := s.Log().Events()
			for i, e := range tr {
				if e.Func == "revocable_release" && e.Task == "urb_complete" {
					for _, f := range tr[i:] {
						if f.Func == "revocable_release_worker" && f.Task == "kworker/events" {
							found = true
						}
					}
				}
			}
			return nil
		})
	})
	require.False(t, res.Failed(), res.String())
	require.True(t, res.Exhausted)
	assert.True(t, found, "some schedule drops the last reference in the handler, and the worker cleans up")
}
