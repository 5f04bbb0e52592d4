// Package drvsim models the Linux driver model in-process: buses, devices,
// drivers, probe and remove, devres, device links and deferred probe, with
// a typed event trace, for teaching, prototyping and deterministic
// lifecycle tests.
//
// A System is one simulated machine. It embeds the driver core (bus.Core),
// so every core operation is a System method, and registers a platform bus
// (System.Platform) at creation:
//
//	sys := drvsim.NewSystem()
//	defer sys.Close()
//	drv := platform.NewDriver("uart", probe, remove)
//	err := sys.RegisterDriver(drv)                    // driver_register
//	dev := sys.NewPlatformDevice("uart")
//	err = sys.RegisterDevice(dev)                      // device_register: binds
//	fmt.Print(sys.Log())                               // the trace
//	err = sys.UnregisterDevice(dev)                    // device_unregister
package drvsim

import (
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/trace"
)

// System is one simulated machine: its buses, devices and drivers, its
// trace log, its deferred-probe lists and clock, and its async-probe
// worker. Systems share nothing: two in one test do not see each other.
// Call Close when done; no goroutine outlives it.
type System struct {
	*bus.Core
	// Platform is the System's platform bus (platform_bus_type).
	Platform *bus.Bus
}

// NewSystem returns a System with a fresh trace log and a registered
// platform bus (the kernel's platform_bus_init at boot).
func NewSystem() *System {
	c := bus.NewCore(trace.NewLog())
	s := &System{Core: c, Platform: platform.NewBus()}
	if err := c.RegisterBus(s.Platform); err != nil {
		panic("drvsim: registering the platform bus: " + err.Error())
	}
	return s
}

// NewPlatformDevice allocates a platform device named name on the System's
// platform bus (platform_device_alloc); register it with RegisterDevice.
func (s *System) NewPlatformDevice(name string, opts ...device.Option) *device.Device {
	return platform.NewDevice(s.Platform, name, opts...)
}

// Events returns the recorded trace events.
func (s *System) Events() []trace.Event { return s.Log().Events() }

// Sentinel errors, the same values as in package device and driver.
var (
	ErrProbeDefer        = device.ErrProbeDefer        // -EPROBE_DEFER
	ErrNoDevice          = device.ErrNoDevice          // -ENODEV
	ErrNoEntry           = device.ErrNoEntry           // -ENOENT
	ErrNoDeviceOrAddress = device.ErrNoDeviceOrAddress // -ENXIO
	ErrBusy              = device.ErrBusy              // -EBUSY
	ErrInvalid           = device.ErrInvalid           // -EINVAL
	ErrExist             = device.ErrExist             // -EEXIST
	ErrTimedOut          = device.ErrTimedOut          // -ETIMEDOUT
	ErrDeadlock          = device.ErrDeadlock          // -EDEADLK
	ErrAgain             = device.ErrAgain             // -EAGAIN
)

var _ device.Driver = (*driver.Driver)(nil)
var _ device.Bus = (*bus.Bus)(nil)
var _ device.Host = (*bus.Core)(nil)
