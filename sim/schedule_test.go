package sim_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every name Go accepts, repeated names included, survives FormatSchedule
// and ParseSchedule.
func TestScheduleRoundTripsEveryTaskName(t *testing.T) {
	names := []string{"reader", "kworker/0:1", "a b", "ümlaut", "x.y-z_1", "async_probe", "(paren)", strings.Repeat("n", sim.MaxTaskName)}
	var got []string
	r := sim.Run(sim.Config{Seed: 3}, func(s *sim.Sim) {
		for _, n := range append(names, "reader", "reader") {
			s.Go(n, func() {
				s.CondResched("one")
				s.CondResched("two")
			})
		}
	})
	require.False(t, r.Failed(), r.String())
	sch := r.Schedule()
	for _, st := range r.Steps {
		got = append(got, st.Next)
	}
	assert.Contains(t, got, "reader#3")
	text := sim.FormatSchedule(sch)
	back, err := sim.ParseSchedule(text)
	require.NoError(t, err, text)
	assert.Equal(t, sch, back)

	again := sim.Run(sim.Config{Replay: back}, func(s *sim.Sim) {
		for _, n := range append(names, "reader", "reader") {
			s.Go(n, func() {
				s.CondResched("one")
				s.CondResched("two")
			})
		}
	})
	require.False(t, again.Failed(), again.String())
	assert.Equal(t, r.TraceText(), again.TraceText())
}

// Names a schedule cannot carry are refused when the task is created.
func TestBadTaskNamesAreRefused(t *testing.T) {
	for _, bad := range []string{"", "a,b", "a*2", " a", "a ", "it's", "w#2", "tab\there", strings.Repeat("n", sim.MaxTaskName+1)} {
		s := sim.New(sim.Config{})
		func() {
			defer func() {
				v := recover()
				require.NotNil(t, v, "%q accepted", bad)
				assert.Contains(t, v, "not a task name", bad)
			}()
			s.Go(bad, func() {})
		}()
		func() {
			defer func() { assert.NotNil(t, recover(), "Spawn(%q) accepted", bad) }()
			s.Spawn(bad, func() {}, nil)
		}()
	}
}

// ParseSchedule checks everything before it expands anything: huge repeat
// counts and garbage are refused at once, without memory to speak of.
func TestParseScheduleIsBounded(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, bad := range []string{
		"reader*300000000",
		"*1*8888888822,,1**",
		"a*1048576,b*1",
		"a*0", "a*-1", "a*x", "a*", "*3", "a,,b", ",", "a,", "a**2", "a#1", "a#x", "a#02",
		strings.Repeat("a,", sim.MaxScheduleLen) + "a",
	} {
		sch, err := sim.ParseSchedule(bad)
		require.ErrorIs(t, err, sim.ErrBadSchedule, "%.40q", bad)
		assert.Nil(t, sch)
	}
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "refusing must not expand")

	sch, err := sim.ParseSchedule(" a*2 , b ,a#2* 3")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "a", "b", "a#2", "a#2", "a#2"}, sch)
	assert.Equal(t, "a*2,b,a#2*3", sim.FormatSchedule(sch))
	big, err := sim.ParseSchedule("a*1048576")
	require.NoError(t, err)
	assert.Len(t, big, sim.MaxScheduleLen)
}

// Bad DRVSIM_SEED and DRVSIM_SCHEDULE values fail the run and the
// exploration at once, with a message naming the variable; nothing runs.
func TestBadEnvironmentFailsClearly(t *testing.T) {
	ran := false
	scenario := func(s *sim.Sim) { ran = true }
	for _, tc := range []struct{ name, value, want string }{
		{sim.EnvSeed, "abc", `drvsim: bad DRVSIM_SEED="abc": want a decimal number from 0 to 18446744073709551615`},
		{sim.EnvSeed, "-1", `drvsim: bad DRVSIM_SEED="-1"`},
		{sim.EnvSchedule, "reader*300000000", `drvsim: bad DRVSIM_SCHEDULE: bad schedule: entry 1 ("reader*300000000"): the repeat count must be a number from 1 to 1048576`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			cfg := sim.EnvConfig(t.Name(), 1)
			r := sim.Run(cfg, scenario)
			require.True(t, r.Failed())
			assert.Equal(t, sim.BugBadInput, r.Failure.Kind)
			assert.Contains(t, r.Failure.Title, tc.want)
			assert.NotContains(t, r.String(), "replay:")
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: cfg}, scenario)
			require.True(t, res.Failed())
			assert.False(t, res.Trusted())
			require.Error(t, res.Err)
			assert.Contains(t, "drvsim: "+res.Err.Error(), tc.want)
			assert.False(t, ran, "nothing runs")
		})
	}
	t.Setenv(sim.EnvSeed, "x")
	_, err := sim.SeedFromEnv(1)
	require.Error(t, err)
	t.Setenv(sim.EnvSchedule, "a,,b")
	_, err = sim.ScheduleFromEnv()
	require.ErrorIs(t, err, sim.ErrBadSchedule)
}

// The replay hint quotes a schedule a shell would split.
func TestReplayHintQuotesForTheShell(t *testing.T) {
	r := &sim.Result{Replayed: true, Steps: []sim.Step{{Next: "a b"}, {Next: "c"}, {}}, Pkg: "./x"}
	assert.Equal(t, "DRVSIM_SCHEDULE='a b,c' go test ./x", r.ReplayHint())
	r = &sim.Result{Replayed: true, Steps: []sim.Step{{Next: "kworker/0:1"}, {Next: "w#2"}, {Next: "w#2"}, {}}, Pkg: "./x"}
	assert.Equal(t, "DRVSIM_SCHEDULE=kworker/0:1,w#2*2 go test ./x", r.ReplayHint())
}
