package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// The end-of-run checks report a system left inconsistent, and Outcomes
// count only the endings of consistent runs. The bad state is made
// without a Sim: the driver bound and never unregistered or removed.
func TestChecksReportInconsistentEndings(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	w := &wifi{}
	drv := w.driver()
	require.NoError(t, sys.RegisterDriver(drv))
	dev := addDevice(sys)
	sys.WaitForProbes() // the probe ran on the worker goroutine
	require.Equal(t, "wifi", dev.DriverName())
	r := &asyncRun{sys: sys, w: w, drv: drv, dev: dev, returned: sys.Log().Seq()}
	o := &Outcomes{}

	e, bad := r.afterUnregister(sys.Events())
	assert.Equal(t, ProbedThenDetached, e)
	assert.Equal(t, []string{
		"wifi: 1 probes, 0 removes, 0 devres releases",
		"device still bound to wifi after driver_unregister",
		"device state bound",
		"driver still lists bound devices",
	}, bad)
	assert.Equal(t, bad, o.check(e, bad))

	e, bad = r.afterRemoval(sys.Events())
	assert.Equal(t, ProbedThenDeleted, e)
	assert.Equal(t, []string{
		"wifi: 1 probes, 0 removes, 0 devres releases",
		"device still bound to wifi after device_del",
		"device state bound",
		"device has 1 references, released=false",
		"devres left: wifi_power_off",
	}, bad)
	assert.Empty(t, o.Counts(), "an inconsistent run counts no ending")

	w.probes = 2
	_, bad = r.afterUnregister(nil)
	assert.Contains(t, bad, "unexpected outcome: 2 probes")
	_, bad = r.afterRemoval(nil)
	assert.Contains(t, bad, "unexpected outcome: 2 probes, skipped=false")
	w.probes = 1

	// rmmod: consistent again.
	require.NoError(t, sys.UnregisterDriver(drv))
	e, bad = r.afterUnregister(sys.Events())
	assert.Equal(t, ProbedThenDetached, e)
	assert.Empty(t, bad)
	assert.Empty(t, o.check(e, bad))
	assert.Equal(t, 1, o.Count(ProbedThenDetached))

	// An asynchronous probe traced after driver_unregister returned.
	late := trace.Event{Seq: r.returned + 1000, Func: "__driver_attach_async_helper", Dev: dev.Path(), Msg: "driver=wifi"}
	_, bad = r.afterUnregister(append(sys.Events(), late))
	assert.Equal(t, []string{"an asynchronous probe ran after driver_unregister returned: " + late.Short()}, bad)

	// A removed device the driver never probed, without the helper's
	// "skipped" line in the trace: neither ending.
	require.NoError(t, sys.UnregisterDevice(dev))
	w.probes, w.removes, w.released = 0, 0, 0
	e, bad = r.afterRemoval(nil)
	assert.Equal(t, Ending(""), e)
	assert.Equal(t, []string{"unexpected outcome: 0 probes, skipped=false"}, bad)
}

// A passing run's check closes the run's System; a failed run's waits for
// Outcomes.Close.
func TestSystemsClosed(t *testing.T) {
	o := &Outcomes{}
	res := sim.Run(sim.Config{}, AsyncProbeVsRemoval(o))
	require.False(t, res.Failed(), res.String())
	assert.Zero(t, o.Open(), "the passing run's System is closed")

	res = sim.Run(sim.Config{}, func(s *sim.Sim) {
		AsyncProbeVsUnregister(o)(s)
		s.Go("oops", func() { panic("oops") })
	})
	require.True(t, res.Failed())
	assert.Equal(t, 1, o.Open(), "the failed run's System is open")
	o.Close()
	assert.Zero(t, o.Open())
	assert.Equal(t, 1, o.Count(ProbedThenDeleted)+o.Count(SkippedDeviceDead), o.String())
	assert.Zero(t, o.Count(ProbedThenDetached)+o.Count(NotProbedDriverGone), "a failed run counts no ending")
}

// The readers scenario catches a driver that unmaps its registers before
// it revokes them (the devm actions in the wrong order): a reader inside
// its section reads unmapped registers, a use-after-free.
func TestReadersVsUnregisterCatchesUnmapBeforeRevoke(t *testing.T) {
	o := &Outcomes{}
	defer o.Close()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 100000}, readersVsUnregister(o, true))
	require.True(t, res.Failed(), res.String())
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind, res.String())
	assert.Contains(t, res.Failure.String(), "sensor regs")
	assert.Contains(t, res.Failure.String(), "sensor_read")
}
