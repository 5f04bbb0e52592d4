package trace_test

import (
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestEmitNumbersSubscribesAndFilters(t *testing.T) {
	log := trace.NewLog()
	var seen []uint64
	cancel := log.Subscribe(func(e trace.Event) { seen = append(seen, e.Seq) })
	e := log.Emit(trace.Event{Kind: trace.ProbeStart, Dev: "/sys/devices/platform/a", Func: "really_probe", Msg: "driver=x"})
	assert.Equal(t, uint64(1), e.Seq)
	log.Emit(trace.Event{Kind: trace.Uevent, Func: "kobject_uevent", Msg: "bind"})
	cancel()
	log.Emit(trace.Event{Kind: trace.Note, Func: "note"})
	assert.Equal(t, []uint64{1, 2}, seen, "cancelled subscribers see nothing more")
	assert.Equal(t, uint64(3), log.Seq())

	probes := trace.Filter(log.Events(), trace.OfKind(trace.ProbeStart))
	require.Len(t, probes, 1)
	assert.Equal(t, "   1 really_probe /sys/devices/platform/a: driver=x", probes[0].String())
	assert.Equal(t, "really_probe /sys/devices/platform/a: driver=x", probes[0].Short())
	assert.Equal(t, []string{"kobject_uevent: bind", "note"}, trace.Shorts(log.Since(1)))
	assert.Equal(t, "   1 really_probe /sys/devices/platform/a: driver=x\n   2 kobject_uevent: bind\n   3 note\n", log.String())
}

func TestTaskFuncLimitAndReset(t *testing.T) {
	log := trace.NewLog()
	log.SetTaskFunc(func() string { return "reader0" })
	log.SetLimit(2)
	for i := 0; i < 3; i++ {
		log.Emit(trace.Event{Func: "f"})
	}
	ev := log.Events()
	require.Len(t, ev, 2)
	assert.Equal(t, uint64(2), ev[0].Seq)
	assert.Equal(t, "   3 [reader0] f", ev[1].String())
	log.Reset()
	assert.Empty(t, log.Events())
	assert.Equal(t, uint64(1), log.Emit(trace.Event{}).Seq)
}

func TestNilLogIsInert(t *testing.T) {
	var log *trace.Log
	log.Emit(trace.Event{Func: "x"})
	log.SetTaskFunc(nil)
	log.SetLimit(1)
	log.Reset()
	log.Subscribe(func(trace.Event) {})()
	assert.Nil(t, log.Events())
	assert.Zero(t, log.Seq())
}

func TestLimitKeepsNewestAcrossCompactions(t *testing.T) {
	log := trace.NewLog()
	log.SetLimit(3)
	for i := 0; i < 20; i++ {
		log.Emit(trace.Event{Func: "f"})
		ev := log.Events()
		want := min(i+1, 3)
		require.Len(t, ev, want)
		assert.Equal(t, uint64(i+1), ev[len(ev)-1].Seq)
		assert.Equal(t, uint64(i+2-want), ev[0].Seq)
	}
	assert.Equal(t, []uint64{19, 20}, seqs(log.Since(18)))
	assert.Empty(t, log.Since(20))
	assert.Equal(t, []uint64{18, 19, 20}, seqs(log.Since(0)))
}

func seqs(evs []trace.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}
