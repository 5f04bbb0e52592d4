package sim_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scenarioCase is a scenario the parallel and sharded searches must agree
// on with the serial one.
type scenarioCase struct {
	name        string
	run         func(*sim.Sim)
	preemptions int
}

func scenarioCases() []scenarioCase {
	cases := []scenarioCase{
		{"twoSegments", twoSegments, 0},
		{"fixedDriver", fixedDriver, 0},
		{"RacyDriver", toy.RacyDriver, 0},
		{"ABBA", toy.ABBA, 0},
		{"CheckThenUse", toy.CheckThenUse, 0},
		{"twoReadersOneUnplug", twoReadersOneUnplug, 0},
		{"twoReadersVsUnregister", twoReadersVsUnregister, 2},
	}
	for _, sc := range kernelmodel.Scenarios() {
		cases = append(cases, scenarioCase{sc.Name, sc.New().Run, 0}) // the design lab's keep no state across runs
	}
	return cases
}

// outcome is what must not depend on the number of workers or shards.
type outcome struct {
	Schedules int
	Exhausted bool
	Failure   string // title and schedule of the first failure
	Reported  string // the same of the reported (minimal) run
}

func outcomeOf(r *sim.ExploreResult) outcome {
	o := outcome{Schedules: r.Schedules, Exhausted: r.Exhausted}
	desc := func(x *sim.Result) string {
		if x == nil {
			return ""
		}
		return fmt.Sprintf("%s @ %s (seed %d)", x.Failure.Title, sim.FormatSchedule(x.Schedule()), x.Seed)
	}
	o.Failure, o.Reported = desc(r.Failure), desc(r.Reported())
	return o
}

// Parallel workers give the serial search's counts, exhaustion, first
// failure and reported schedule, in every mode, on every scenario.
func TestParallelAgreesWithSerial(t *testing.T) {
	for _, sc := range scenarioCases() {
		for _, mode := range []sim.Mode{sim.Exhaustive, sim.Random, sim.PCT} {
			t.Run(sc.name+"/"+mode.String(), func(t *testing.T) {
				cfg := sim.ExploreConfig{Mode: mode, Schedules: 300, MaxPreemptions: sc.preemptions, Config: sim.Config{Seed: 5}}
				serial := sim.Explore(cfg, sc.run)
				want := outcomeOf(serial)
				for _, w := range []int{2, 3, 8} {
					cfg.Workers = w
					got := sim.Explore(cfg, sc.run)
					assert.Equal(t, want, outcomeOf(got), "%d workers", w)
				}
			})
		}
	}
}

// The shards of an exploration add up to it: their schedule counts sum to
// the serial count when the search runs to its end (each shard applies the
// schedules bound to its own share), and merging their summaries gives
// the serial count, exhaustion and first failure in every case.
func TestShardsAddUpToTheSerialSearch(t *testing.T) {
	for _, sc := range scenarioCases() {
		for _, mode := range []sim.Mode{sim.Exhaustive, sim.Random} {
			t.Run(sc.name+"/"+mode.String(), func(t *testing.T) {
				cfg := sim.ExploreConfig{Mode: mode, Schedules: 300, MaxPreemptions: sc.preemptions, Config: sim.Config{Seed: 5}}
				serial := sim.Explore(cfg, sc.run)
				for _, n := range []int{2, 3, 7} {
					var sums []*sim.Summary
					total := 0
					for k := n; k >= 1; k-- { // any order
						c := cfg
						c.Shard = sim.Shard{K: k, N: n}
						c.Workers = k % 3
						r := sim.Explore(c, sc.run)
						total += r.Schedules
						sums = append(sums, r.Summary(c))
					}
					if serial.Exhausted || (mode != sim.Exhaustive && !serial.Failed()) {
						assert.Equal(t, serial.Schedules, total, "%d shards", n)
					}
					m, err := sim.MergeSummaries(sums)
					require.NoError(t, err)
					assert.Equal(t, serial.Schedules, m.Schedules, "%d shards", n)
					assert.Equal(t, serial.Exhausted, m.Exhausted, "%d shards", n)
					if serial.Failed() {
						require.NotNil(t, m.Failure, "%d shards", n)
						assert.Equal(t, serial.Failure.Failure.Title, m.Failure.Title)
						assert.Equal(t, sim.FormatSchedule(serial.Failure.Schedule()), m.Failure.Schedule)
						assert.Equal(t, sim.FormatSchedule(serial.Reported().Schedule()), m.Minimal.Schedule)
					} else {
						assert.Nil(t, m.Failure)
					}
				}
			})
		}
	}
}

func TestMergeRefusesMismatchedShards(t *testing.T) {
	run := func(k, n int, seed uint64) *sim.Summary {
		c := sim.ExploreConfig{Mode: sim.Random, Schedules: 10, Shard: sim.Shard{K: k, N: n}, Config: sim.Config{Seed: seed}}
		return sim.Explore(c, twoSegments).Summary(c)
	}
	_, err := sim.MergeSummaries([]*sim.Summary{run(1, 2, 1)})
	assert.ErrorIs(t, err, sim.ErrBadShard)
	assert.ErrorContains(t, err, "shard 2/2 missing")
	_, err = sim.MergeSummaries([]*sim.Summary{run(1, 2, 1), run(1, 2, 1)})
	assert.ErrorContains(t, err, "given twice")
	_, err = sim.MergeSummaries([]*sim.Summary{run(1, 2, 1), run(2, 2, 9)})
	assert.ErrorContains(t, err, "another configuration")

	for _, bad := range []string{"0/2", "3/2", "2", "a/b", "1/0", "-1/2"} {
		_, err := sim.ParseShard(bad)
		assert.ErrorIs(t, err, sim.ErrBadShard, bad)
	}
	sh, err := sim.ParseShard("2/4")
	require.NoError(t, err)
	assert.Equal(t, sim.Shard{K: 2, N: 4}, sh)
	res := sim.Explore(sim.ExploreConfig{Shard: sim.Shard{K: 5, N: 4}}, twoSegments)
	assert.ErrorIs(t, res.Err, sim.ErrBadShard)
	assert.True(t, strings.HasPrefix(res.String(), "explore (random): nothing run: bad shard 5/4"), res.String())
}

// The schedules bound cuts the parallel search exactly where it cuts the
// serial one.
func TestParallelSchedulesBound(t *testing.T) {
	for _, limit := range []int{1, 2, 17, 100} {
		cfg := sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: limit, MaxPreemptions: 2}
		serial := sim.Explore(cfg, twoReadersVsUnregister)
		cfg.Workers = 4
		par := sim.Explore(cfg, twoReadersVsUnregister)
		assert.Equal(t, limit, serial.Schedules)
		assert.Equal(t, outcomeOf(serial), outcomeOf(par), "limit %d", limit)
		assert.False(t, par.Exhausted)
		assert.Equal(t, "schedules", par.Stopped)
	}
}

// A time budget ends the search with its coverage.
func TestTimeBudgetEndsWithCoverage(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1 << 30, Time: 100 * time.Millisecond, Workers: 2}, twoReadersVsUnregister)
	require.False(t, res.Failed(), res.String())
	assert.False(t, res.Exhausted)
	assert.Equal(t, "time", res.Stopped)
	c := res.Coverage
	assert.Positive(t, c.Schedules)
	assert.Equal(t, c.Schedules, c.DistinctTraces, "every schedule of an exhaustive search is distinct")
	assert.Positive(t, c.Deepest)
	out := res.String()
	assert.Contains(t, out, ", time budget spent, no failure\n")
	assert.Regexp(t, `coverage: \d+ schedules, \d+ distinct traces, deepest \d+ steps, at most \d+ preemptions; the time budget \(100ms\) ran out first\n`, out)

	rnd := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 1 << 30, Time: 200 * time.Millisecond}, twoSegments)
	assert.Equal(t, "time", rnd.Stopped)
	assert.Less(t, rnd.Coverage.DistinctTraces, rnd.Coverage.Schedules, "random schedules repeat: only 6 exist")
	assert.Equal(t, 6, rnd.Coverage.DistinctTraces)
}

// The coverage says whether the preemption bound cut the search.
func TestCoverageBound(t *testing.T) {
	full := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 5}, twoSegments)
	assert.False(t, full.Coverage.BoundReached)
	assert.Contains(t, full.Coverage.String(), "(bound 5, never reached); space exhausted")
	cut := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 1}, twoSegments)
	assert.True(t, cut.Coverage.BoundReached)
	assert.Contains(t, cut.Coverage.String(), "(bound 1, reached: it cut the search); space exhausted")
}

// PerWorker gives each worker its own instance of a scenario that keeps
// state across runs, never used by two runs at once.
func TestPerWorker(t *testing.T) {
	var made, closed atomic.Int32
	var overlap atomic.Bool
	scenario, done := sim.PerWorker(func() (func(*sim.Sim), func()) {
		made.Add(1)
		var busy sync.Mutex
		return func(s *sim.Sim) {
			if !busy.TryLock() {
				overlap.Store(true)
				return
			}
			s.Cleanup(busy.Unlock)
			twoReadersOneUnplug(s)
		}, func() { closed.Add(1) }
	})
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Workers: 4}, scenario)
	done()
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
	assert.False(t, overlap.Load())
	assert.LessOrEqual(t, made.Load(), int32(4))
	assert.Equal(t, made.Load(), closed.Load())
}

// twoReadersVsUnregister is the driver core with revocable: a platform
// driver puts its device's registers behind a devm-managed provider (the
// registers are freed by a devm action registered before it, so after the
// revoke); two processes that opened the device read through their own
// consumers while device_unregister unbinds it.
func twoReadersVsUnregister(s *sim.Sim) {
	sys := drvsim.NewSystem(drvsim.OnSim(s))
	s.Cleanup(sys.Close)
	var p *revocable.Provider[env.Object]
	drv := platform.NewDriver("ec", func(dev *device.Device) error {
		regs := s.Alloc("ec_regs")
		if _, err := dev.Devres().Add("ec_regs_free", regs.Free); err != nil {
			return err
		}
		var err error
		p, err = revocable.DevmProvider(dev, regs, revocable.WithName("ec"))
		return err
	}, nil)
	if err := sys.RegisterDriver(drv); err != nil {
		panic(err)
	}
	dev := sys.NewPlatformDevice("ec.0")
	if err := sys.RegisterDevice(dev); err != nil {
		panic(err)
	}
	for range 2 {
		c, err := revocable.New(p) // open()
		if err != nil {
			panic(err)
		}
		s.Go("reader", func() {
			regs, a := c.TryAccess()
			if regs != nil {
				regs.Access("ec_cmd_xfer")
				s.CondResched("ec_cmd_xfer")
				regs.Access("ec_cmd_xfer")
			}
			a.Release()
			if err := c.Close(); err != nil { // release()
				panic(err)
			}
		})
	}
	s.Go("unregister", func() {
		if err := sys.UnregisterDevice(dev); err != nil {
			panic(err)
		}
	})
}

// Workers is bounded: above MaxWorkers Explore runs nothing and says why
// (each worker costs goroutines and memory); AllCPUs stays within it.
func TestExploreBoundsWorkers(t *testing.T) {
	ran := false
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Workers: 1 << 30}, func(s *sim.Sim) { ran = true })
	require.ErrorIs(t, res.Err, sim.ErrBadWorkers)
	assert.Contains(t, res.Err.Error(), "1073741824, at most MaxWorkers (1024)")
	assert.False(t, ran, "nothing runs")
	assert.True(t, res.Failed())
	assert.Equal(t, "explore (exhaustive): nothing run: bad number of workers: 1073741824, at most MaxWorkers (1024)\n", res.String(),
		"no verdict in the zero counts")
	res = sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Workers: sim.MaxWorkers}, toy.RacyDriver)
	require.NoError(t, res.Err)
	assert.Equal(t, "BUG: KASAN: use-after-free in read", res.Failure.Failure.Title)
}
