package kernelmodel_test

import (
	"testing"

	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The gpiolib conversion's race on the two designs that have it: the
// accessor's reference on the chip's provider comes too late, and the
// sanitizer reports it on the freed provider, freed by gpiochip_remove
// (v3) or by the kfree_rcu callback its revoke queued (merged). Both
// failures replay from their schedules.
func TestGPIOLibRaceUseAfterFree(t *testing.T) {
	for _, tc := range []struct {
		name     string
		run      func(*sim.Sim)
		title    string // the KASAN title
		freedBy  string // the task that freed the provider
		provider string // the provider's allocation
	}{
		{"v3-gpiolib-race", kernelmodel.V3GPIOLib, "BUG: KASAN: use-after-free in kref_get", "gpiochip_remove", "revocable_provider"},
		{"merged-gpiolib-race", kernelmodel.MergedGPIOLib, "BUG: KASAN: use-after-free in kref_get_unless_zero", "rcu_kfree", "revocable_provider"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1000, Config: sim.EnvConfig(t.Name(), 1)}, tc.run)
			require.True(t, res.Failed(), res.String())
			f := res.Failure
			require.Equal(t, sim.BugUseAfterFree, f.Failure.Kind, f.String())
			text := f.String()
			assert.Contains(t, text, tc.title+"\n")
			assert.Contains(t, text, "to freed object "+tc.provider)
			assert.Contains(t, text, "by task gpiod_get_value")
			assert.Contains(t, text, "Freed by task "+tc.freedBy)
			t.Logf("%s", res)
			requireScheduleReplay(t, f, tc.run)
		})
	}
}

// On the merged design the window is the macro's own: a consumer that
// loads gdev->chip_rp only after the revoke cleared it gets NULL and
// -ENODEV, with no access to the provider at all.
func TestMergedGPIOLibLateLoadIsClean(t *testing.T) {
	res := sim.Run(sim.Config{Replay: []string{"gpiochip_remove", "gpiochip_remove", "gpiochip_remove", "gpiod_get_value"},
		Test: t.Name()}, kernelmodel.MergedGPIOLib)
	require.False(t, res.Failed(), res.String())
	assert.NotContains(t, res.TraceText(), "revocable_init")
}
