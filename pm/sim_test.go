package pm_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/sim"
)

// systems closes the Systems a simulated scenario builds, one per run.
type systems struct {
	mu  sync.Mutex
	all []*drvsim.System
}

func (ss *systems) new(s *sim.Sim) *drvsim.System {
	sys := drvsim.NewSystem(drvsim.OnSim(s))
	ss.mu.Lock()
	ss.all = append(ss.all, sys)
	ss.mu.Unlock()
	return sys
}

func (ss *systems) close() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, s := range ss.all {
		s.Close()
	}
}

// Asynchronous suspend under the explorer: a parent and two children, all
// marked for async suspend, each device's callbacks in a task of its own
// (async_suspend, async_resume). In every interleaving, within one
// preemption, both children are suspended before the parent at each
// suspend phase and resumed after it at each resume phase
// (dpm_wait_for_subordinate, dpm_wait_for_superior), and the callbacks do
// run in more than one order.
func TestAsyncSuspendOrderExplored(t *testing.T) {
	ss := &systems{}
	defer ss.close()
	var mu sync.Mutex
	orders := map[string]bool{}
	res := sim.Explore(sim.ExploreConfig{Config: sim.EnvConfig(t.Name(), 1), Mode: sim.Exhaustive, MaxPreemptions: 1, Schedules: 20000},
		func(s *sim.Sim) {
			sys := ss.new(s)
			r := &recorder{}
			mk := func(name string, parent *device.Device) *device.Device {
				drv := platform.NewDriver(name, nil, nil)
				drv.PM = &device.PMOps{
					Suspend: func(d *device.Device) error { return r.add(d, "suspend") },
					Resume:  func(d *device.Device) error { return r.add(d, "resume") },
				}
				if err := sys.RegisterDriver(drv); err != nil {
					panic(err)
				}
				var opts []device.Option
				if parent != nil {
					opts = append(opts, device.WithParent(parent))
				}
				d := sys.NewPlatformDevice(name, opts...)
				if err := sys.RegisterDevice(d); err != nil {
					panic(err)
				}
				if err := pm.EnableAsyncSuspend(d); err != nil {
					panic(err)
				}
				return d
			}
			p := mk("hub", nil)
			mk("a", p)
			mk("b", p)
			s.Go("sleep", func() {
				if err := pm.SystemSleep(sys); err != nil {
					panic(err)
				}
			})
			s.AddLeakCheck("orders", func() []string {
				calls := r.take()
				idx := func(k string) int { return slices.Index(calls, k) }
				var bad []string
				for _, c := range []string{"a", "b"} {
					if idx(c+":suspend") < 0 || idx(c+":suspend") > idx("hub:suspend") {
						bad = append(bad, c+" suspended after its parent: "+fmt.Sprint(calls))
					}
					if idx(c+":resume") < idx("hub:resume") {
						bad = append(bad, c+" resumed before its parent: "+fmt.Sprint(calls))
					}
				}
				mu.Lock()
				orders[fmt.Sprint(calls)] = true
				mu.Unlock()
				return bad
			})
		})
	require.False(t, res.Failed(), "%s", res)
	assert.True(t, res.Exhausted, "%s", res)
	assert.Greater(t, len(orders), 1, "the children's callbacks run in several orders")
	t.Log(res, len(orders), "orders")
}
