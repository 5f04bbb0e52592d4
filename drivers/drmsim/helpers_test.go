package drmsim_test

import (
	"fmt"
	"testing"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/kernel"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// gpu is a toy platform DRM driver: its "hardware" is a simulated
// allocation freed by a devm action at unbind, its dirty callback writes to
// it inside drm_dev_enter/exit, and its remove unplugs the drm device.
type gpu struct {
	drm     *drmsim.Device
	regs    *env.Object
	flushes int
	broken  bool // no drm_dev_enter around the hardware access
	log     []string
}

type rig struct {
	sys   *drvsim.System
	class *drmsim.Class
	dev   *device.Device
	g     *gpu
}

// newRig builds a system with the gpu driver bound to platform device
// "gpu". With s non-nil it runs under the Sim.
func newRig(t testing.TB, s *sim.Sim, broken bool) *rig {
	t.Helper()
	var sys *drvsim.System
	if s != nil {
		sys = drvsim.NewSystem(drvsim.OnSim(s))
	} else {
		sys = drvsim.NewSystem()
	}
	r := &rig{sys: sys}
	r.class = drmsim.NewClass(sys)
	g := &gpu{broken: broken}
	r.g = g
	drv := &drmsim.Driver{Name: "gpu", Desc: "toy gpu", Major: 1, Minor: 2, Patchlevel: 3, Dirty: g.dirty}
	pdrv := platform.NewDriver("gpu", func(dev *device.Device) error {
		d, err := drmsim.DevmDevAlloc(r.class, drv, dev)
		if err != nil {
			return err
		}
		g.drm = d
		g.regs = r.class.Memory().Alloc("gpu regs")
		if _, err := dev.Devres().AddOrReset("gpu_iounmap", func() { g.log = append(g.log, "devm gpu_iounmap"); g.regs.Free() }); err != nil {
			return err
		}
		if err := d.AddAction("gpu_modeset_cleanup", func() { g.log = append(g.log, "drmm gpu_modeset_cleanup") }); err != nil {
			return err
		}
		return d.Register()
	}, func(dev *device.Device) {
		g.drm.Unplug()
	})
	require.NoError(t, sys.RegisterDriver(pdrv))
	r.dev = sys.NewPlatformDevice("gpu")
	require.NoError(t, sys.RegisterDevice(r.dev))
	require.NotNil(t, g.drm, "probe ran")
	return r
}

// dirty is the driver's flush: copy the buffer to the hardware.
func (g *gpu) dirty(f *drmsim.File, bo *drmsim.GEMObject, clip drmsim.Rect) error {
	d := f.Device()
	if !g.broken {
		idx, ok := d.Enter()
		if !ok {
			return fmt.Errorf("gpu flush: %w", drmsim.ErrNoDevice)
		}
		defer d.Exit(idx)
	}
	_ = bo.Bytes("gpu flush: read buffer")
	kernel.CondResched(d, "gpu flush: between register writes")
	g.regs.Access("gpu flush: write framebuffer registers")
	g.flushes++
	return nil
}

// openBuffer opens card0, creates a 64x4 dumb buffer and returns the file
// and its handle.
func openBuffer(t testing.TB, c *drmsim.Class) (*drmsim.File, uint32) {
	t.Helper()
	f, err := c.Open("card0")
	require.NoError(t, err)
	cd := &drmsim.CreateDumbArgs{Width: 64, Height: 4, BPP: 32}
	require.NoError(t, f.Ioctl(drmsim.IoctlCreateDumb, cd))
	return f, cd.Handle
}

// shorts keeps the events of the given kinds, in Short form.
func shorts(l *trace.Log, since uint64, kinds ...trace.Kind) []string {
	return trace.Shorts(trace.Filter(l.Since(since), trace.OfKind(kinds...)))
}
