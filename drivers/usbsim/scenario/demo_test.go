package scenario_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

func TestSplitPhases(t *testing.T) {
	evs := []trace.Event{
		{Seq: 1, Func: "setup"}, {Seq: 2, Func: "a"}, {Seq: 3, Func: "x"}, {Seq: 4, Func: "b"},
		{Seq: 5, Func: "a"}, {Seq: 6, Func: "c"},
	}
	is := func(fn string) func(trace.Event) bool { return func(e trace.Event) bool { return e.Func == fn } }
	ps := scenario.SplitPhases(evs, []scenario.Marker{
		{Heading: "A", Match: is("a")},
		{Heading: "missing", Match: is("nope")},
		{Heading: "B", Match: is("b")},
		{Heading: "A again", Match: is("a")},
	})
	require.Len(t, ps, 4)
	seqs := func(p scenario.Phase) []uint64 {
		var out []uint64
		for _, e := range p.Events {
			out = append(out, e.Seq)
		}
		return out
	}
	assert.Equal(t, "A", ps[0].Heading)
	assert.Equal(t, []uint64{2, 3}, seqs(ps[0]), "events before the first marker are dropped")
	assert.Empty(t, ps[1].Events, "a marker that matches nothing")
	assert.Equal(t, []uint64{4}, seqs(ps[2]))
	assert.Equal(t, []uint64{5, 6}, seqs(ps[3]), "markers are searched after the previous phase's start")
}

// The demo's phases are found from the events: each one is there, in
// order, and holds what its heading announces.
func TestRunDemoPhases(t *testing.T) {
	st, err := scenario.RunDemo(1)
	require.NoError(t, err)
	require.Len(t, st.Phases, 10)
	first := func(p scenario.Phase) string { return p.Events[0].Func }
	assert.Equal(t, "hub_port_connect", first(st.Phases[0]))
	assert.Equal(t, "devm_add_action", first(st.Phases[1]))
	assert.Equal(t, "revocable_init", first(st.Phases[2]))
	assert.Equal(t, "hub_port_connect_change", first(st.Phases[3]))
	assert.Equal(t, "revocable_provider_revoke", first(st.Phases[4]))
	assert.Equal(t, "device_release", first(st.Phases[5]))
	assert.Equal(t, "vfs_read", first(st.Phases[6]))
	assert.Contains(t, st.Phases[6].Notes[0], "first read:")
	assert.Empty(t, st.Phases[7].Events)
	assert.Equal(t, "hub_port_connect_change", first(st.Phases[8]))
	assert.Contains(t, st.Phases[9].Notes[0], "BUG: KASAN: use-after-free")
	require.True(t, st.Hunt.Failed())
	assert.Equal(t, "usb-skel-broken", st.HuntScenario, "the hunt explores the registered scenario")
	assert.Equal(t, sim.BugUseAfterFree, st.Hunt.Failure.Failure.Kind)
	// The phase shows the reported run: the minimal failing one.
	assert.Same(t, st.Hunt.Reported(), st.Hunt.Minimal)

	var a, b strings.Builder
	require.NoError(t, scenario.WritePhases(&a, st.Phases))
	require.NoError(t, scenario.Demo(&b, 1))
	assert.Equal(t, a.String(), b.String(), "deterministic")
	assert.True(t, strings.HasPrefix(a.String(), "== 1. plug: "))
	assert.Contains(t, a.String(), "\n\n== 10. the sanitizer's report\n")
}
