package drvsim_test

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
)

// BenchmarkRegisterBindUnbindRelease registers N platform devices (each
// binds at device_add), then unregisters them (unbind, device_del, release).
// ns/device should stay flat as N grows: no operation scans a list.
// bytes/bound-device is the heap the N bound devices hold. The "default"
// runs use drvsim.NewSystem() as it comes (lockdep on, the default trace
// limit, the hung-task detector on; "default-no-hung-task" is its baseline
// without the detector); the others bound the trace to 16 events.
func BenchmarkRegisterBindUnbindRelease(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("default/N=%d", n), func(b *testing.B) {
			benchRegister(b, n, func() *drvsim.System { return drvsim.NewSystem() })
		})
		b.Run(fmt.Sprintf("default-no-hung-task/N=%d", n), func(b *testing.B) {
			benchRegister(b, n, func() *drvsim.System { return drvsim.NewSystem(drvsim.WithHungTaskTimeout(0)) })
		})
	}
	for _, lockdep := range []bool{true, false} {
		sizes := []int{1_000, 10_000, 100_000}
		if !lockdep {
			sizes = append(sizes, 1_000_000) // about 1.5 GB allocated per iteration
		}
		for _, n := range sizes {
			b.Run(fmt.Sprintf("lockdep=%v/N=%d", lockdep, n), func(b *testing.B) {
				benchRegister(b, n, func() *drvsim.System {
					return drvsim.NewSystem(drvsim.WithTraceLimit(16), drvsim.WithLockdep(lockdep))
				})
			})
		}
	}
}

func benchRegister(b *testing.B, n int, newSystem func() *drvsim.System) {
	b.Helper()
	{
		{
			names := make([]string, n)
			for i := range names {
				names[i] = "bench." + strconv.Itoa(i)
			}
			var bytesPerDev float64
			b.ReportAllocs()
			b.ResetTimer()
			for it := 0; it < b.N; it++ {
				sys := newSystem()
				drv := &driver.Driver{Name: "bench", Bus: platform.Name, Probe: func(dev *device.Device) error {
					dev.SetDrvdata(dev.Name())
					_, err := dev.Devres().Add("res", func() {})
					return err
				}}
				if err := sys.RegisterDriver(drv); err != nil {
					b.Fatal(err)
				}
				var before runtime.MemStats
				if it == 0 {
					b.StopTimer()
					runtime.GC()
					runtime.ReadMemStats(&before)
					b.StartTimer()
				}
				devs := make([]*device.Device, n)
				for i := range devs {
					devs[i] = sys.NewPlatformDevice(names[i])
					if err := sys.RegisterDevice(devs[i]); err != nil {
						b.Fatal(err)
					}
				}
				if it == 0 {
					b.StopTimer()
					var after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&after)
					bytesPerDev = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
					if devs[n-1].State() != device.StateBound {
						b.Fatal("not bound")
					}
					b.StartTimer()
				}
				for _, d := range devs {
					if err := sys.UnregisterDevice(d); err != nil {
						b.Fatal(err)
					}
				}
				sys.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/device")
			b.ReportMetric(bytesPerDev, "bytes/bound-device")
		}
	}
}

// BenchmarkDeferredProbeChain registers N devices, device i depending on
// device i+1, in order: every bind triggers the deferred list, so the
// chain costs N(N+1)/2 probe attempts.
func BenchmarkDeferredProbeChain(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			var attempts uint64
			for it := 0; it < b.N; it++ {
				sys := drvsim.NewSystem(drvsim.WithTraceLimit(16), drvsim.WithLockdep(false))
				drv := &driver.Driver{Name: "chain", Bus: platform.Name, Probe: func(dev *device.Device) error {
					i, _ := strconv.Atoi(dev.Name()[len("chain."):])
					if i == n-1 {
						return nil
					}
					next := sys.FindDevice(platform.Name, "chain."+strconv.Itoa(i+1))
					if next == nil || next.State() != device.StateBound {
						return device.ErrProbeDefer
					}
					return nil
				}}
				if err := sys.RegisterDriver(drv); err != nil {
					b.Fatal(err)
				}
				for i := range n {
					if err := sys.RegisterDevice(sys.NewPlatformDevice(fmt.Sprintf("chain.%d", i))); err != nil {
						b.Fatal(err)
					}
				}
				if sys.FindDevice(platform.Name, "chain.0").State() != device.StateBound {
					b.Fatal("chain not bound")
				}
				attempts = sys.ProbeAttempts()
				sys.Close()
			}
			b.ReportMetric(float64(attempts), "attempts")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(attempts), "ns/attempt")
		})
	}
}
