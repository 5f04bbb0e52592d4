package scenario_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/sensor"
	"github.com/drvsim/drvsim/drivers/sensor/scenario"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/sim"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// The read racing the unbind on the three correct drivers: every
// interleaving within three preemptions is clean: no use after free, no
// leak (the counts are part of the outcome: a lost schedule point shows).
func TestReadVsUnbindExhaustive(t *testing.T) {
	want := map[sensor.Variant]int{sensor.Refcounted: 214, sensor.Revocable: 345, sensor.Drain: 140}
	for _, v := range []sensor.Variant{sensor.Refcounted, sensor.Revocable, sensor.Drain} {
		t.Run(string(v), func(t *testing.T) {
			sc := scenario.ScenarioOf(v)
			cfg := sc.Config()
			cfg.Config = sim.EnvConfig(t.Name(), 0)
			res := sc.Explore(cfg)
			require.False(t, res.Failed(), "%s", res)
			assert.True(t, res.Exhausted)
			assert.Equal(t, want[v], res.Schedules)
			t.Logf("%s: %s", v, res.ExploreResult)
		})
	}
}

// The struct embedding the cdev is devm-allocated: exploration finds the
// file's last fput touching it after unbind freed it, as KASAN reports
// it, though every file operation is safe; the failure replays from its
// schedule.
func TestDevmEmbeddedCdevUseAfterFree(t *testing.T) {
	sc := scenario.ScenarioOf(sensor.DevmCdev)
	cfg := sc.Config()
	cfg.Config = sim.EnvConfig(t.Name(), 0)
	res := sc.Explore(cfg)
	require.True(t, res.Failed(), "the devm-embedded cdev must be caught")
	f := res.Failure.Failure
	assert.Equal(t, sim.BugUseAfterFree, f.Kind)
	assert.Equal(t, "BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)", f.Title)
	assert.Contains(t, f.Details, "freed object struct sensor")
	assert.Contains(t, f.Details, "Freed by task unbind")
	t.Setenv(sim.EnvSchedule, sim.FormatSchedule(res.Failure.Schedule()))
	again := sc.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 0)})
	require.Equal(t, 1, again.Schedules)
	require.True(t, again.Failed())
	assert.Equal(t, res.Failure.String(), again.Failure.String())
}

// The demo's story: on the devm-embedded cdev the close is KASAN's
// use-after-free; with the file operations revoked, or the struct
// refcounted, the reads after the unbind get -ENODEV and the close is
// clean.
func TestOpenAcrossUnbind(t *testing.T) {
	st, err := scenario.RunOpenAcrossUnbind(sensor.DevmCdev)
	require.NoError(t, err)
	require.True(t, st.Result.Failed())
	assert.Equal(t, "BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)", st.Result.Failure.Title)
	assert.ErrorIs(t, st.SecondErr, chardev.ErrNoDevice)
	for _, v := range []sensor.Variant{sensor.Drain, sensor.Refcounted} {
		st, err := scenario.RunOpenAcrossUnbind(v)
		require.NoError(t, err)
		require.False(t, st.Result.Failed(), "%s: %s", v, st.Result)
		assert.ErrorIs(t, st.SecondErr, chardev.ErrNoDevice)
		assert.NoError(t, st.CloseErr)
	}
	st, err = scenario.RunOpenAcrossUnbind(sensor.Drain)
	require.NoError(t, err)
	assert.Contains(t, st.Result.TraceText(), "[unbind] cdev_revoke sensor0: /dev/sensor0: release 0, cdev reference dropped")
}
