package kernel_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A platform driver whose probe sets up a workqueue, work, delayed work
// and its interrupt with devm_: unbinding undoes them newest first, the
// interrupt before the work it queues.
func TestDevmWorkqueueAndIRQUndoneAtUnbind(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	var wq *kernel.Workqueue
	var samples atomic.Int32
	probe := func(dev *device.Device) error {
		var err error
		if wq, err = kernel.DevmAllocOrderedWorkqueue(dev, "sensor_wq", 0); err != nil {
			return err
		}
		w, err := kernel.DevmWorkAutocancel(dev, "sample", func(*kernel.Work) { samples.Add(1) })
		if err != nil {
			return err
		}
		if _, err = kernel.DevmDelayedWorkAutocancel(dev, "poll", func(*kernel.DelayedWork) {}); err != nil {
			return err
		}
		if err := kernel.DevmRequestIRQ(dev, 17, func(int, any) kernel.IRQReturn {
			wq.Queue(w)
			return kernel.IRQHandled
		}, 0, "sensor", dev); err != nil {
			return err
		}
		kernel.DevInfo(dev, "ready, irq %d\n", 17)
		return nil
	}
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("sensor", probe, nil)))
	dev := sys.NewPlatformDevice("sensor")
	require.NoError(t, sys.RegisterDevice(dev))
	require.NoError(t, kernel.RaiseIRQ(sys, 17))
	wq.Flush()
	assert.Equal(t, int32(1), samples.Load())
	assert.Equal(t, []string{
		"devm_destroy_workqueue sensor_wq", "devm_work_drop sample", "devm_delayed_work_drop poll", "devm_irq_release 17 sensor",
	}, dev.Devres().Names())

	require.NoError(t, sys.UnregisterDevice(dev))
	var released []string
	for _, ev := range trace.Filter(sys.Events(), trace.OfKind(trace.DevresRelease)) {
		if ev.Func == "devm_action_release" {
			released = append(released, ev.Msg)
		}
	}
	assert.Equal(t, []string{
		"devm_irq_release 17 sensor", "devm_delayed_work_drop poll", "devm_work_drop sample", "devm_destroy_workqueue sensor_wq",
	}, released)
	assert.Zero(t, kernel.IRQStat(sys, 17).Handlers)
	require.NoError(t, kernel.RaiseIRQ(sys, 17))
	assert.Equal(t, uint64(1), kernel.IRQStat(sys, 17).Spurious, "no handler any more")
	_, total := sys.Env().Reports()
	assert.Zero(t, total)
	assert.Contains(t, sys.Log().String(), "dev_info /sys/devices/platform/sensor: ready, irq 17")
}

// fakeDevice is a Device whose devres allocations fail.
type fakeDevice struct {
	e *env.Env
	l *devres.List
}

func (d *fakeDevice) Env() *env.Env        { return d.e }
func (d *fakeDevice) Devres() *devres.List { return d.l }
func (d *fakeDevice) Path() string         { return "/sys/devices/fake" }

func TestDevmFailures(t *testing.T) {
	e := env.New()
	defer e.Close()
	var nilDev *device.Device
	_, err := kernel.DevmWorkAutocancel(nilDev, "w", func(*kernel.Work) {})
	assert.ErrorIs(t, err, device.ErrInvalid)
	assert.ErrorIs(t, kernel.DevmRequestIRQ(nil, 3, func(int, any) kernel.IRQReturn { return 0 }, 0, "x", nil), device.ErrInvalid)
	assert.ErrorIs(t, kernel.DevmRequestIRQ(&fakeDevice{e: e}, 3, func(int, any) kernel.IRQReturn { return 0 }, 0, "x", nil), device.ErrInvalid, "no devres list")

	l := devres.NewList("/sys/devices/fake")
	l.Attach(e)
	oom := errors.New("injected")
	l.SetFaultHook(func(string) error { return oom })
	dev := &fakeDevice{e: e, l: l}
	_, err = kernel.DevmWorkAutocancel(dev, "w", func(*kernel.Work) {})
	assert.ErrorIs(t, err, devres.ErrNoMemory)
	_, err = kernel.DevmDelayedWorkAutocancel(dev, "dw", func(*kernel.DelayedWork) {})
	assert.ErrorIs(t, err, devres.ErrNoMemory)
	_, err = kernel.DevmAllocWorkqueue(dev, "wq", 0, 0)
	assert.ErrorIs(t, err, devres.ErrNoMemory)
	assert.Contains(t, events(e, kernel.KindWorkqueue), "destroy_workqueue: wq", "devm_add_action_or_reset destroyed it")
	err = kernel.DevmRequestThreadedIRQ(dev, 3, nil, func(int, any) kernel.IRQReturn { return 0 }, kernel.IRQFOneshot, "x", nil)
	assert.ErrorIs(t, err, devres.ErrNoMemory)
	assert.Zero(t, kernel.IRQStat(e, 3).Handlers, "the interrupt was freed again")
	assert.Zero(t, l.Len())
}

func TestDevPrintk(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	dev := sys.NewPlatformDevice("adc0")
	require.NoError(t, sys.RegisterDevice(dev))
	kernel.DevErr(dev, "timeout after %d ms\n", 20)
	kernel.DevWarn(dev, "calibration missing, using defaults")
	kernel.DevNotice(dev, "firmware %s", "1.2")
	kernel.DevInfo(dev, "ready")
	kernel.DevDbg(dev, "reg[%#x] = %#x", 0x10, 0xbe)
	kernel.DevInfo(dev, "%s", strings.Repeat("x", 2000))
	var got []string
	for _, ev := range trace.Filter(sys.Events(), trace.OfKind(kernel.KindPrintk)) {
		got = append(got, ev.Short())
	}
	require.Len(t, got, 6)
	assert.Equal(t, []string{
		"dev_err /sys/devices/platform/adc0: timeout after 20 ms",
		"dev_warn /sys/devices/platform/adc0: calibration missing, using defaults",
		"dev_notice /sys/devices/platform/adc0: firmware 1.2",
		"dev_info /sys/devices/platform/adc0: ready",
		"dev_dbg /sys/devices/platform/adc0: reg[0x10] = 0xbe",
	}, got[:5])
	assert.Len(t, got[5], len("dev_info /sys/devices/platform/adc0: ")+992, "cut at the kernel's line length")
	assert.Empty(t, trace.Filter(sys.Events(), trace.OfKind(trace.Warn)), "dev_warn is no WARN")
	assert.PanicsWithValue(t, "kernel: dev_info with a nil device", func() { kernel.DevInfo(nil, "x") })
}
