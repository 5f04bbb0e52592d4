// Package platform is a platform-like bus for tests and demos, modelled on
// drivers/base/platform.c and faux.c: devices match drivers as
// platform_match does (driver_override, the device-tree match table, an
// id table entry, the name), parentless devices live under
// /sys/devices/platform, and uevents carry MODALIAS=platform:<name> (or
// of:N<name>C<compatible> for a device made from a device-tree node).
package platform

import (
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/of"
)

// Name is the platform bus's name.
const Name = "platform"

// NewBus returns a new, unregistered platform bus (platform_bus_type);
// register it with Core.RegisterBus. Each Core needs its own.
func NewBus() *bus.Bus {
	return &bus.Bus{Name: Name, DevRoot: Name, Match: Match, Uevent: Uevent}
}

// Match is platform_match, in its order: a device's driver_override
// decides alone (the core also checks it before Match); then the driver's
// device-tree match table against the device's node
// (of_driver_match_device); then, ACPI aside, a driver with an id table
// matches through the table only, and a driver without one by its name,
// equal to the device's name without its ".N" instance suffix. A device
// made from a device-tree node has an empty platform name (of_device_alloc
// allocates it as platform_device_alloc("")), so it matches through the
// device-tree table or driver_override only.
func Match(dev *device.Device, drv *driver.Driver) bool {
	if dev == nil || drv == nil {
		return false
	}
	if o := dev.DriverOverride(); o != "" {
		return o == drv.Name
	}
	if of.DriverMatchDevice(dev, drv) {
		return true
	}
	if of.NodeOf(dev) != nil {
		return false
	}
	if len(drv.IDTable) > 0 {
		_, ok := drv.MatchID(dev.Name())
		return ok
	}
	return drv.Name == driver.BaseName(dev.Name())
}

// Uevent is platform_uevent: MODALIAS=platform:<name>, or for a device
// made from a device-tree node of_device_uevent_modalias's
// MODALIAS=of:N<name>T<type>C<compatible>... (nothing for a nil
// device).
func Uevent(dev *device.Device) []string {
	if dev == nil {
		return nil
	}
	if n := of.NodeOf(dev); n != nil {
		m := "MODALIAS=of:N" + n.BaseName() + "T"
		if t, err := n.ReadString("device_type"); err == nil {
			m += t
		}
		for _, c := range n.Compatible() {
			m += "C" + c
		}
		return []string{m}
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
// if any; none for a device made from a device-tree node, or a nil
// device or driver.
func ID(dev *device.Device, drv *driver.Driver) (driver.ID, bool) {
	if dev == nil || drv == nil {
		return driver.ID{}, false
	}
	if of.NodeOf(dev) != nil {
		return driver.ID{}, false
	}
	return drv.MatchID(dev.Name())
}
