package device_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

type fakeBus struct{}

func (fakeBus) BusName() string     { return "fake" }
func (fakeBus) DevicesRoot() string { return "fake" }

func newHost() *env.Env { return env.New() }

func TestPathsAndIdentity(t *testing.T) {
	root := device.New("soc")
	assert.Equal(t, "/sys/devices/soc", root.Path())
	onBus := device.New("foo", device.WithBus(fakeBus{}))
	assert.Equal(t, "/sys/devices/fake/foo", onBus.Path())
	assert.Equal(t, onBus.Path(), onBus.String())
	assert.Equal(t, "fake", onBus.BusName())
	assert.Equal(t, "", root.BusName())
	child := device.New("i2c-0", device.WithParent(onBus))
	assert.Equal(t, "/sys/devices/fake/foo/i2c-0", child.Path())
	assert.Same(t, onBus, child.Parent())
	assert.Equal(t, device.StateNew, root.State())
	assert.NotNil(t, root.Devres())
}

func TestInitializeAndRefcount(t *testing.T) {
	h := newHost()
	released := 0
	d := device.New("dev", device.WithRelease(func(*device.Device) { released++ }))
	require.NoError(t, d.Core().Initialize(h))
	require.ErrorIs(t, d.Core().Initialize(h), device.ErrExist)
	require.Equal(t, device.StateInitialized, d.State())
	require.EqualValues(t, 1, d.Refs())
	require.Same(t, d, d.Get())
	require.EqualValues(t, 2, d.Refs())
	require.NoError(t, d.Put())
	require.Equal(t, 0, released)
	require.NoError(t, d.Put())
	require.Equal(t, 1, released)
	require.True(t, d.Released())
	require.ErrorIs(t, d.Put(), device.ErrInvalid)
	require.Equal(t, 1, released, "release runs exactly once")
	d.Get() // on a released device: warning, no resurrection
	require.EqualValues(t, 0, d.Refs())
	assert.Equal(t, []string{
		"device_initialize /sys/devices/dev",
		"device_release /sys/devices/dev",
		"put_device /sys/devices/dev: reference count underflow",
		"get_device /sys/devices/dev: reference on a device with no references (not initialized or released)",
	}, trace.Shorts(h.Log().Events()))
}

func TestReleaseWithoutCallbackWarns(t *testing.T) {
	h := newHost()
	d := device.New("norelease")
	require.NoError(t, d.Core().Initialize(h))
	require.NoError(t, d.Put())
	warns := trace.Filter(h.Log().Events(), trace.OfKind(trace.Warn))
	require.Len(t, warns, 1)
	assert.Contains(t, warns[0].Msg, "does not have a release() function")
}

func TestDrvdataAttrsOverride(t *testing.T) {
	d := device.New("x")
	d.SetDrvdata(42)
	assert.Equal(t, 42, d.Drvdata())
	d.SetAttr("modalias", "platform:x")
	d.SetAttr("a", "1")
	v, ok := d.Attr("modalias")
	assert.True(t, ok)
	assert.Equal(t, "platform:x", v)
	assert.Equal(t, []string{"a", "modalias"}, d.Attrs())
	d.RemoveAttr("a")
	_, ok = d.Attr("a")
	assert.False(t, ok)
	d.SetDriverOverride("vfio")
	assert.Equal(t, "vfio", d.DriverOverride())
}

type drv string

func (d drv) DriverName() string { return string(d) }

func TestCoreAccess(t *testing.T) {
	h := newHost()
	p := device.New("p")
	require.NoError(t, p.Core().Initialize(h))
	c := device.New("c", device.WithParent(p))
	require.NoError(t, c.Core().Initialize(h))
	c.Core().LinkToParent()
	assert.EqualValues(t, 2, p.Refs())
	assert.Equal(t, []*device.Device{c}, p.Children())
	c.Core().UnlinkFromParent()
	assert.Equal(t, 0, p.NumChildren())
	require.NoError(t, p.Put())
	c.Core().SetDriver(drv("d"))
	assert.Equal(t, "d", c.DriverName())
	c.Core().SetState(device.StateBound)
	assert.True(t, c.IsRegistered())
	assert.True(t, c.Core().Kill())
	assert.False(t, c.Core().Kill())
	assert.True(t, c.IsDead())
}

func TestLockDeadlockAndContention(t *testing.T) {
	h := newHost()
	d := device.New("l")
	require.NoError(t, d.Core().Initialize(h))
	require.NoError(t, d.Lock())
	require.True(t, d.Locked())
	err := d.Lock()
	require.ErrorIs(t, err, device.ErrDeadlock)
	got := make(chan error)
	go func() {
		err := d.Lock() // another goroutine waits
		if err == nil {
			err = d.Unlock()
		}
		got <- err
	}()
	require.NoError(t, d.Unlock())
	require.NoError(t, <-got)
	require.ErrorIs(t, d.Unlock(), device.ErrInvalid)
	warns := trace.Filter(h.Log().Events(), trace.OfKind(trace.Warn))
	require.Len(t, warns, 2)
}

// A scheduler-aware lock compares simulated tasks and reports schedule points.
type fakeSched struct {
	task   string
	points []string
}

func (f *fakeSched) Yield(p sched.Point)                   { f.points = append(f.points, p.String()) }
func (f *fakeSched) Block(w sched.Wait, ready func() bool) { panic("unexpected block: " + w.What) }
func (f *fakeSched) Fault(string) error                    { return nil }
func (f *fakeSched) Current() string                       { return f.task }

func TestLockUnderScheduler(t *testing.T) {
	s := &fakeSched{task: "T1"}
	h := env.New(env.WithScheduler(s))
	d := device.New("s")
	require.NoError(t, d.Core().Initialize(h))
	require.NoError(t, d.Lock())
	require.ErrorIs(t, d.Lock(), device.ErrDeadlock)
	require.NoError(t, d.Unlock())
	assert.Equal(t, []string{"device_lock /sys/devices/s", "device_lock /sys/devices/s"}, s.points)
}

func TestErrnoAndStrings(t *testing.T) {
	assert.Equal(t, "-EPROBE_DEFER", device.ErrnoName(fmt.Errorf("x: %w", device.ErrProbeDefer)))
	assert.Equal(t, "0", device.ErrnoName(nil))
	assert.Equal(t, "boom", device.ErrnoName(errors.New("boom")))
	assert.Equal(t, "probe deferred (-EPROBE_DEFER)", device.ErrProbeDefer.Error())
	assert.Equal(t, "bound", device.StateBound.String())
	assert.Equal(t, "invalid", device.State(99).String())
	assert.Equal(t, "STATELESS|AUTOREMOVE_CONSUMER", (device.LinkStateless | device.LinkAutoremoveConsumer).String())
	assert.Equal(t, "0", device.LinkFlags(0).String())
}

func TestLinksBookkeeping(t *testing.T) {
	a, b := device.New("a"), device.New("b")
	l := &device.Link{Supplier: a, Consumer: b, Flags: device.LinkAutoprobeConsumer}
	b.Core().AddLink(l)
	assert.True(t, l.Managed())
	assert.Equal(t, []*device.Link{l}, a.Consumers())
	assert.Equal(t, []*device.Link{l}, b.Suppliers())
	assert.True(t, b.Core().RemoveLink(l))
	assert.False(t, b.Core().RemoveLink(l))
	assert.Empty(t, a.Consumers())
}

func TestCoreLockIsTheDeviceLock(t *testing.T) {
	d := device.New("m")
	require.NoError(t, d.Core().Initialize(newHost()))
	require.NoError(t, d.Core().Lock())
	require.ErrorIs(t, d.Lock(), device.ErrDeadlock)
	require.ErrorIs(t, d.Core().Lock(), device.ErrDeadlock)
	assert.Equal(t, env.New().Holder().String(), d.LockHolder())
	require.NoError(t, d.Unlock())
	assert.Empty(t, d.LockHolder())
}

// Without lockdep the lock still excludes: another task's Lock waits until
// the holder unlocks.
func TestLockWithoutLockdepWaits(t *testing.T) {
	d := device.New("nolockdep")
	require.NoError(t, d.Core().Initialize(env.New(env.WithLockdep(false))))
	require.NoError(t, d.Lock())
	got := make(chan error)
	go func() { got <- d.Lock() }()
	select {
	case err := <-got:
		t.Fatalf("second Lock returned %v while the lock was held", err)
	case <-time.After(20 * time.Millisecond):
	}
	require.NoError(t, d.Unlock())
	require.NoError(t, <-got)
	require.NoError(t, d.Unlock())
}

// device_release: devres still on the device is released, newest first,
// before the release callback.
func TestReleaseRunsLeftoverDevresFirst(t *testing.T) {
	h := newHost()
	var order []string
	d := device.New("r", device.WithRelease(func(*device.Device) { order = append(order, "release") }))
	require.NoError(t, d.Core().Initialize(h))
	for _, n := range []string{"a", "b"} {
		_, err := d.Devres().Add(n, func() { order = append(order, n) })
		require.NoError(t, err)
	}
	require.NoError(t, d.Put())
	assert.Equal(t, []string{"b", "a", "release"}, order)
	assert.Equal(t, []string{
		"device_initialize /sys/devices/r",
		"devm_add_action /sys/devices/r: a",
		"devm_add_action /sys/devices/r: b",
		"devres_release_all /sys/devices/r: 2 actions",
		"devm_action_release /sys/devices/r: b",
		"devm_action_release /sys/devices/r: a",
		"device_release /sys/devices/r",
	}, trace.Shorts(h.Log().Events()))
}

// Platform data is set at New and read back as given; a device created
// without it has none.
func TestPlatformData(t *testing.T) {
	type board struct{ irq int }
	pdata := &board{irq: 17}
	d := device.New("ec.0", device.WithPlatformData(pdata))
	assert.Same(t, pdata, d.PlatformData())
	assert.Nil(t, device.New("ec.1").PlatformData())
}
