// Package platform is a platform-like bus for tests and demos, modelled on
// drivers/base/platform.c and faux.c: devices match drivers by name (or by
// an id table entry, or by driver_override), parentless devices live under
// /sys/devices/platform, and uevents carry MODALIAS=platform:<name>.
package platform

import (
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
)

// Name is the platform bus's name.
const Name = "platform"

// NewBus returns a new, unregistered platform bus (platform_bus_type);
// register it with Core.RegisterBus. Each Core needs its own.
func NewBus() *bus.Bus {
	return &bus.Bus{Name: Name, DevRoot: Name, Match: Match, Uevent: Uevent}
}

// Match is platform_match: a driver with an id table matches a device
// through the table only; a driver without one matches by its name, equal
// to the device's name without its ".N" instance suffix. (driver_override
// is handled by the core before Match; OF and ACPI matching are not
// modelled.) A nil device or driver matches nothing.
func Match(dev *device.Device, drv *driver.Driver) bool {
	if dev == nil || drv == nil {
		return false
	}
	if len(drv.IDTable) > 0 {
		_, ok := drv.MatchID(dev.Name())
		return ok
	}
	return drv.Name == driver.BaseName(dev.Name())
}

// Uevent is platform_uevent: MODALIAS=platform:<name> (nothing for a nil
// device).
func Uevent(dev *device.Device) []string {
	if dev == nil {
		return nil
	}
	return []string{"MODALIAS=platform:" + driver.BaseName(dev.Name())}
}

// NewDevice allocates a platform device named name on b
// (platform_device_alloc), with a release callback that does nothing
// (platform_device_release frees memory Go collects); opts may override it.
func NewDevice(b *bus.Bus, name string, opts ...device.Option) *device.Device {
	all := append([]device.Option{device.WithBus(b), device.WithRelease(func(*device.Device) {})}, opts...)
	return device.New(name, all...)
}

// NewDriver returns a platform driver named name with the given probe and
// remove (either may be nil), ready for driver_register.
func NewDriver(name string, probe func(*device.Device) error, remove func(*device.Device)) *driver.Driver {
	return &driver.Driver{Name: name, Bus: Name, Probe: probe, Remove: remove}
}

// ID returns the id-table entry dev matched in drv (platform_get_device_id),
// if any (none for a nil device or driver).
func ID(dev *device.Device, drv *driver.Driver) (driver.ID, bool) {
	if dev == nil || drv == nil {
		return driver.ID{}, false
	}
	return drv.MatchID(dev.Name())
}
