package driver_test

import (
	"fmt"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestValidate(t *testing.T) {
	require.ErrorIs(t, (&driver.Driver{Name: "x"}).Validate(), driver.ErrInvalid)
	err := (&driver.Driver{}).Validate()
	require.ErrorIs(t, err, driver.ErrInvalid)
	assert.Contains(t, err.Error(), "missing name, bus")
	var nilDrv *driver.Driver
	require.ErrorIs(t, nilDrv.Validate(), driver.ErrInvalid)
	require.NoError(t, (&driver.Driver{Name: "x", Bus: "platform"}).Validate())
}

func TestMatchID(t *testing.T) {
	d := &driver.Driver{Name: "uart", Bus: "platform", IDTable: []driver.ID{{Name: "pl011", Data: 1}, {Name: "8250", Data: 2}}}
	id, ok := d.MatchID("8250.3")
	require.True(t, ok)
	assert.Equal(t, 2, id.Data)
	_, ok = d.MatchID("uart")
	assert.False(t, ok)
	assert.Equal(t, "uart", driver.BaseName("uart.12"))
	assert.Equal(t, "uart.x", driver.BaseName("uart.x"))
	assert.Equal(t, "uart.", driver.BaseName("uart."))
	assert.Equal(t, ".1", driver.BaseName(".1"))
	assert.Equal(t, "/sys/bus/platform/drivers/uart", d.Path())
	assert.Equal(t, "platform/uart", d.String())
	assert.Equal(t, "uart", d.DriverName())
}

func TestCallbacksAndProbeType(t *testing.T) {
	d := &driver.Driver{Name: "x", Bus: "b"}
	dev := device.New("dev")
	require.NoError(t, d.CallProbe(dev)) // nil probe binds
	d.CallRemove(dev)
	d.CallShutdown(dev)
	calls := 0
	d.Probe = func(*device.Device) error { calls++; return driver.ErrProbeDefer }
	d.Remove = func(*device.Device) { calls++ }
	d.Shutdown = func(*device.Device) { calls++ }
	require.ErrorIs(t, d.CallProbe(dev), device.ErrProbeDefer)
	d.CallRemove(dev)
	d.CallShutdown(dev)
	assert.Equal(t, 3, calls)
	assert.False(t, d.AllowsAsyncProbing())
	d.ProbeType = driver.ProbePreferAsynchronous
	assert.True(t, d.AllowsAsyncProbing())
	assert.Equal(t, "PROBE_PREFER_ASYNCHRONOUS", d.ProbeType.String())
	assert.Equal(t, "PROBE_FORCE_SYNCHRONOUS", driver.ProbeForceSynchronous.String())
	assert.Equal(t, "PROBE_DEFAULT_STRATEGY", driver.ProbeDefaultStrategy.String())
}

func TestIsQuiet(t *testing.T) {
	assert.True(t, driver.IsQuiet(fmt.Errorf("x: %w", driver.ErrNoDevice)))
	assert.False(t, driver.IsQuiet(driver.ErrNoEntry), "-ENOENT is a probe failure")
	assert.True(t, driver.IsQuiet(driver.ErrNoDeviceOrAddress))
	assert.False(t, driver.IsQuiet(driver.ErrIO))
	assert.False(t, driver.IsQuiet(nil))
	assert.Same(t, device.ErrProbeDefer, driver.ErrProbeDefer)
}
