package scenario

import (
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/sim"
)

// flushScenarios are the registered FlushVsUnplug scenarios, one per udl
// variant, with their default preemption bounds: the correct drivers
// within 3 preemptions per schedule (648 schedules; the unbounded space,
// 30366 schedules, is BenchmarkFullExploreFlushVsUnplug's), the broken
// one without a bound (its use-after-free is found in 76).
var flushScenarios = []struct {
	variant udlsim.Variant
	name    string
	bound   int
	want    sim.BugKind
	about   string
}{
	{udlsim.Classic, "drm-udl-classic", 3, "",
		"A process flushes a dumb buffer on a DisplayLink adapter (DRM_IOCTL_MODE_DIRTYFB) while it is " +
			"unplugged; the classic udl driver brackets the flush with drm_dev_enter/exit, so drm_dev_unplug " +
			"waits for it before udl_drop_usb frees the URBs: every schedule completes."},
	{udlsim.Revocable, "drm-udl-revocable", 3, "",
		"The same race on udl converted to revocable: the flush runs inside a consumer section of the drm " +
			"device's presence provider, which the unplug revokes; every schedule completes."},
	{udlsim.Broken, "drm-udl-broken", 0, sim.BugUseAfterFree,
		"The same race on udl without drm_dev_enter: a flush racing the unplug writes an URB buffer that " +
			"udl_drop_usb already freed: a use-after-free."},
}

// Scenarios returns the udl scenarios, in a fixed order: FlushVsUnplug on
// each variant, explored exhaustively by default. Package scenarios
// registers them; `drvsim explore NAME` runs them.
func Scenarios() []sim.Scenario {
	out := make([]sim.Scenario, len(flushScenarios))
	for i, f := range flushScenarios {
		out[i] = sim.Scenario{
			Name:        f.name,
			Under:       "udl " + f.variant.String() + " driver",
			Description: f.about,
			Want:        sim.Prediction{Bug: f.want},
			Defaults:    sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: f.bound, Schedules: 20000},
			New:         flushSetup(f.variant),
		}
	}
	return out
}

// flushSetup is the constructor of the FlushVsUnplug scenario of v: a
// FlushVsUnplug of its own per exploration, its rigs closed with it.
func flushSetup(v udlsim.Variant) func() sim.Setup {
	return func() sim.Setup {
		sc := &FlushVsUnplug{Variant: v}
		return sim.Setup{Run: sc.Scenario, Close: sc.Close}
	}
}
