package scenario_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// rmmod with a read and a write in flight, the device still plugged in:
// the two correct skeletons pass exhaustive exploration within two
// preemptions per schedule (the counts are part of the expected outcome).
// The revocable skeleton used to run its revoke and its URB kill from
// devres, after usb_unbind_interface had enabled the endpoints again: a
// write inside its read section submitted an URB after the kill, and a
// read that started then waited for data while the revoke waited for it.
func TestRmmodMidIOExhaustive(t *testing.T) {
	want := map[skel.Variant]int{skel.Classic: 3386, skel.Revocable: 5143}
	for _, v := range correct {
		t.Run(string(v), func(t *testing.T) {
			m := &scenario.RmmodMidIO{Variant: v}
			res := m.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 20000,
				Config: sim.Config{Test: t.Name()}})
			require.False(t, res.Failed(), "%s", res)
			assert.True(t, res.Exhausted)
			assert.Equal(t, want[v], res.Schedules)
		})
	}
}

// The broken skeleton's rmmod fails: exhaustively, first on the write it
// let through after the kill (its URB is never given back: the buffer
// leaks), and under random schedules also on the read mapping the
// bulk-in buffer devres freed.
func TestRmmodBrokenFound(t *testing.T) {
	m := &scenario.RmmodMidIO{Variant: skel.Broken}
	res := m.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 20000})
	require.True(t, res.Failed())
	f := res.Failure.Failure
	assert.Equal(t, sim.BugLeak, f.Kind)
	assert.Contains(t, f.Details, "skel write buffer")

	uaf := scenario.HuntRmmod(skel.Broken, 1, scenario.HuntSchedules)
	require.True(t, uaf.Failed())
	assert.Equal(t, sim.BugUseAfterFree, uaf.Failure.Failure.Kind)
	assert.Contains(t, uaf.Failure.Failure.Details, "bulk_in_buffer")
}

// The replay target of HuntRmmod's hint: DRVSIM_SEED=<seed> replays the
// failing run.
func TestHuntRmmod(t *testing.T) {
	seed, err := sim.SeedFromEnv(1)
	require.NoError(t, err)
	res := scenario.HuntRmmod(skel.Broken, seed, scenario.HuntSchedules)
	require.True(t, res.Failed(), "no failure in %d schedules", res.Schedules)
	again := scenario.HuntRmmod(skel.Broken, res.Failure.Seed, 1)
	require.True(t, again.Failed())
	assert.Equal(t, res.Failure.Failure.Title, again.Failure.Failure.Title)
	assert.Equal(t, res.Failure.Schedule(), again.Failure.Schedule())
}

// The revocable skeleton's teardown on rmmod, in order: the URBs are
// terminated (usb_disable_interface), disconnect gives the minor back and
// revokes the provider (devm_release_action, waiting for the reader in
// its section), then returns; only then does usb_unbind_interface finish
// (usb_enable_interface), and devres frees the hardware state. After it
// every file operation is -ENODEV, a new open finds no node.
func TestRmmodRevocableOrder(t *testing.T) {
	res, m := scenario.RmmodMidIOOnce(skel.Revocable)
	require.False(t, res.Failed(), "%s", res)
	assert.ErrorIs(t, m.ReadErr, usbsim.ErrNoDevice)
	require.NoError(t, m.WriteErr)
	assert.Equal(t, 5, m.WriteN)
	assert.ErrorIs(t, m.AfterReadErr, usbsim.ErrNoDevice)
	assert.ErrorIs(t, m.AfterWriteErr, usbsim.ErrNoDevice)
	assert.ErrorIs(t, m.ReopenErr, chardev.ErrNoEntry)
	var got []string
	for _, e := range res.Events {
		switch {
		case e.Task != "rmmod":
		case e.Func == "usb_hcd_giveback_urb", e.Func == "usb_deregister_dev", e.Func == "skel_disconnect",
			e.Func == "devm_action_release", e.Kind == trace.Revoke,
			e.Func == "usb_unbind_interface" && strings.HasSuffix(e.Msg, "unbound"):
			got = append(got, fmt.Sprintf("%s: %s", e.Func, e.Msg))
		}
	}
	assert.Equal(t, []string{
		"usb_hcd_giveback_urb: urb 1 ep81 status=-ESHUTDOWN actual=0",
		"usb_hcd_giveback_urb: urb 2 ep02 status=-ESHUTDOWN actual=0",
		"usb_deregister_dev: skel0: minor 192",
		"devm_action_release: revocable_provider_revoke skel 1-1:1.0",
		"revocable_provider_revoke: start",
		"revocable_provider_revoke: grace period done",
		"skel_disconnect: USB Skeleton #192 now disconnected",
		"usb_unbind_interface: unbound",
		"devm_action_release: skel_free_hw",
	}, got)
}

// The rmmod demo's phases are found from the events, in order, and the
// broken skeleton's part ends in a failure and its replay.
func TestRunRmmodDemoPhases(t *testing.T) {
	st, err := scenario.RunRmmodDemo(1)
	require.NoError(t, err)
	require.Len(t, st.Phases, 14)
	first := func(p scenario.Phase) trace.Event { return p.Events[0] }
	assert.Equal(t, "chrdev_open", first(st.Phases[0]).Func)
	assert.Equal(t, "revocable_init", first(st.Phases[5]).Func)
	assert.Equal(t, "usb_deregister", first(st.Phases[1]).Func)
	assert.Equal(t, "vfs_read", first(st.Phases[2]).Func)
	assert.Equal(t, "rmmod", first(st.Phases[3]).Task)
	assert.Equal(t, "usb_deregister", first(st.Phases[6]).Func)
	assert.Equal(t, "revocable_provider_revoke", first(st.Phases[7]).Func)
	assert.Equal(t, "skel_disconnect", first(st.Phases[8]).Func)
	for _, i := range []int{4, 9} {
		assert.Equal(t, "do_exit", first(st.Phases[i]).Func)
		assert.Contains(t, st.Phases[i].Notes[0], "read in flight: no such device (-ENODEV)")
	}
	assert.Equal(t, "usb-skel-broken-rmmod", st.HuntScenario)
	require.True(t, st.Hunt.Failed())
	assert.Equal(t, "usb_deregister", first(st.Phases[11]).Func)
	assert.Contains(t, st.Phases[12].Notes[0], "BUG: ")
	assert.Equal(t, "replay: "+st.Hunt.Failure.ReplayHint(), st.Phases[13].Notes[0])

	again, err := scenario.RunRmmodDemo(1)
	require.NoError(t, err)
	var a, b strings.Builder
	require.NoError(t, scenario.WritePhases(&a, st.Phases))
	require.NoError(t, scenario.WritePhases(&b, again.Phases))
	assert.Equal(t, a.String(), b.String(), "deterministic")
}
