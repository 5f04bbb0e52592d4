package drmsim_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/drmsim"
)

// benchDevices is the number of drm devices of the "per-device" benchmarks
// (one per goroutine, up to that many).
const benchDevices = 8

func newBenchDevices(b *testing.B) ([]*drmsim.Device, func()) {
	b.Helper()
	sys := drvsim.NewSystem(drvsim.WithLockdep(false)) // the production read path
	c := drmsim.NewClass(sys)
	var ds []*drmsim.Device
	for i := range benchDevices {
		p := sys.NewPlatformDevice(fmt.Sprintf("gpu.%d", i))
		require.NoError(b, sys.RegisterDevice(p))
		d, err := drmsim.DevAlloc(c, &drmsim.Driver{Name: "gpu"}, p)
		require.NoError(b, err)
		ds = append(ds, d)
	}
	return ds, func() {
		for _, d := range ds {
			d.Put()
		}
		sys.Close()
	}
}

// drm_dev_enter/exit, each goroutine on a device of its own (a machine
// with several GPUs, or one thread per device).
func BenchmarkEnterExit(b *testing.B) {
	b.Run("revocable", func(b *testing.B) {
		ds, done := newBenchDevices(b)
		defer done()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			d := ds[int(next.Add(1)-1)%benchDevices]
			for pb.Next() {
				idx, ok := d.Enter()
				if ok {
					d.Exit(idx)
				}
			}
		})
	})
	b.Run("globalsrcu", func(b *testing.B) {
		g := newKernelUnplug()
		ds := make([]*kernelDev, benchDevices)
		for i := range ds {
			ds[i] = &kernelDev{g: g}
		}
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			d := ds[int(next.Add(1)-1)%benchDevices]
			for pb.Next() {
				idx, ok := d.enter()
				if ok {
					d.exit(idx)
				}
			}
		})
	})
	b.Run("rwmutex", func(b *testing.B) {
		ds := make([]*rwDev, benchDevices)
		for i := range ds {
			ds[i] = &rwDev{}
		}
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			d := ds[int(next.Add(1)-1)%benchDevices]
			for pb.Next() {
				if d.enter() {
					d.exit()
				}
			}
		})
	})
}

// drm_dev_enter/exit, every goroutine on the same device.
func BenchmarkEnterExitShared(b *testing.B) {
	b.Run("revocable", func(b *testing.B) {
		ds, done := newBenchDevices(b)
		defer done()
		d := ds[0]
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				idx, ok := d.Enter()
				if ok {
					d.Exit(idx)
				}
			}
		})
	})
	b.Run("globalsrcu", func(b *testing.B) {
		d := &kernelDev{g: newKernelUnplug()}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				idx, ok := d.enter()
				if ok {
					d.exit(idx)
				}
			}
		})
	})
	b.Run("rwmutex", func(b *testing.B) {
		d := &rwDev{}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if d.enter() {
					d.exit()
				}
			}
		})
	})
}

// The ported designs behave like the real one (a sanity check for the
// benchmark doubles).
func TestKernelPortSemantics(t *testing.T) {
	g := newKernelUnplug()
	d := &kernelDev{g: g}
	idx, ok := d.enter()
	require.True(t, ok)
	d.exit(idx)
	d.unplug()
	_, ok = d.enter()
	require.False(t, ok)
	r := &rwDev{}
	require.True(t, r.enter())
	r.exit()
	r.unplug()
	require.False(t, r.enter())
}

// Enter and Exit allocate nothing.
func TestEnterExitZeroAllocs(t *testing.T) {
	r := newRig(t, nil, false)
	defer r.sys.Close()
	d := r.g.drm
	n := testing.AllocsPerRun(1000, func() {
		idx, ok := d.Enter()
		if ok {
			d.Exit(idx)
		}
	})
	require.Zero(t, n)
}
