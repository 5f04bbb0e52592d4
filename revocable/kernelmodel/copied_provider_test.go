package kernelmodel_test

import (
	"testing"

	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertInitUseAfterFree checks a copied-provider failure: revocable_init
// reads the freed provider, and the report says it was freed by the
// kfree_rcu callback queued by the revoke's release.
func assertInitUseAfterFree(t *testing.T, f *sim.Result) {
	t.Helper()
	require.Equal(t, sim.BugUseAfterFree, f.Failure.Kind, f.String())
	text := f.String()
	assert.Contains(t, text, "BUG: KASAN: use-after-free in kref_get_unless_zero")
	assert.Contains(t, text, "to freed object revocable_provider (object #2) by task read")
	assert.Contains(t, text, "merged.RevocableInit")
	assert.Contains(t, text, "Freed by task rcu_kfree")
	assert.Contains(t, text, "klib.(*Kernel).KfreeRCU")
	tr := f.TraceText()
	assert.Contains(t, tr, "[unbind] revocable_provider_revoke: *rp_ptr = NULL, rp->res = NULL")
	assert.Contains(t, tr, "[unbind] kfree_rcu: revocable_provider queued by revocable_provider_release")
	assert.Contains(t, tr, "[rcu_kfree] kfree: revocable_provider (object #2)")
}

func TestCopiedProviderExhaustiveFindsUseAfterFree(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1000, Config: sim.EnvConfig(t.Name(), 1)}, kernelmodel.MergedCopiedProvider)
	require.True(t, res.Failed(), res.String())
	assertInitUseAfterFree(t, res.Failure)
	t.Logf("%s", res)
	requireScheduleReplay(t, res.Failure, kernelmodel.MergedCopiedProvider)
}

func TestCopiedProviderRandomFindsUseAfterFree(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 200, Config: sim.EnvConfig(t.Name(), 1)}, kernelmodel.MergedCopiedProvider)
	require.True(t, res.Failed(), res.String())
	assertInitUseAfterFree(t, res.Failure)
	requireSeedReplay(t, res.Failure, kernelmodel.MergedCopiedProvider)
}

// TestCopiedProviderSafeOrder is the order the KUnit test exercises: the
// read comes before the kfree_rcu callback, kref_get_unless_zero sees a
// zero count and revocable_init fails cleanly. The design is only as safe
// as the RCU callback is late.
func TestCopiedProviderSafeOrder(t *testing.T) {
	res := sim.Run(sim.Config{Replay: []string{"unbind", "unbind", "unbind", "read"}, Test: t.Name()}, kernelmodel.MergedCopiedProvider)
	require.False(t, res.Failed(), res.String())
	assert.Contains(t, res.TraceText(), "[rcu_kfree] kfree: revocable_provider")
}

// On the v3 seed a read that allocates its handle from a copied provider
// pointer after unbind freed the provider touches freed memory in
// kref_get; the failure replays from its schedule.
func TestV3CopiedProviderUseAfterFree(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1000, Config: sim.EnvConfig(t.Name(), 1)}, kernelmodel.V3CopiedProvider)
	require.True(t, res.Failed(), res.String())
	f := res.Failure
	require.Equal(t, sim.BugUseAfterFree, f.Failure.Kind)
	assert.Contains(t, f.String(), "BUG: KASAN: use-after-free in kref_get\n")
	assert.Contains(t, f.String(), "v3.RevocableAlloc")
	assert.Contains(t, f.String(), "Freed by task unbind")
	requireScheduleReplay(t, f, kernelmodel.V3CopiedProvider)
}
