// Package bus models struct bus_type and the binding machinery of the Linux
// driver core (drivers/base/bus.c, dd.c and the device_add/device_del half
// of core.c).
//
// A Bus is configuration: a name, a match function, optional bus-level
// probe/remove/shutdown callbacks that wrap the driver's, and uevent
// variables. A Core is one simulated driver core: it owns the registered
// buses, devices and drivers, the deferred-probe lists, the async-probe
// worker, the simulated clock of the deferred-probe timeout and the trace
// log. The root package drvsim wraps a Core as System.
//
// Layering: bus imports device and driver (and devres, sched, trace); it
// never imports the root package.
package bus

import (
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
)

// Bus models struct bus_type. Name is required; every callback is optional.
// Register it with Core.RegisterBus (bus_register).
type Bus struct {
	// Name is the bus's name, e.g. "platform" (/sys/bus/<Name>).
	Name string
	// DevRoot is the directory under /sys/devices holding the bus's
	// parentless devices ("platform" for /sys/devices/platform/foo).
	DevRoot string
	// Match is bus_type.match: whether drv can drive dev. nil matches
	// every pair. A device's driver_override bypasses it.
	Match func(dev *device.Device, drv *driver.Driver) bool
	// Probe is bus_type.probe; when set it runs instead of the driver's
	// probe and is expected to call drv.CallProbe itself.
	Probe func(dev *device.Device, drv *driver.Driver) error
	// Remove is bus_type.remove; when set it runs instead of the driver's
	// remove and is expected to call drv.CallRemove itself.
	Remove func(dev *device.Device, drv *driver.Driver)
	// Shutdown is bus_type.shutdown; when set, device_shutdown calls it
	// for every device of the bus, bound or not (drv is nil for an unbound
	// device), instead of the driver's shutdown; it is expected to call
	// drv.CallShutdown itself, as platform_shutdown does.
	Shutdown func(dev *device.Device, drv *driver.Driver)
	// SyncState is bus_type.sync_state: when set it is called instead of
	// the driver's sync_state (see driver.Driver.SyncState), for any
	// device of the bus, bound or not, once its consumers have all bound.
	SyncState func(dev *device.Device)
	// Uevent is bus_type.uevent: extra KEY=value variables for the
	// device's uevents (e.g. MODALIAS=platform:foo).
	Uevent func(dev *device.Device) []string
	// NoAutoprobe clears drivers_autoprobe: devices and drivers are not
	// bound on registration, only by a manual Bind.
	NoAutoprobe bool
	// PM is bus_type.pm: the bus's power-management callbacks, which the
	// PM core (package pm) prefers to the driver's (a bus's callback
	// usually calls the driver's itself, as usb_device_pm_ops do).
	PM *device.PMOps

	p *busPriv // set by Core.RegisterBus (subsys_private), under Core.mu
}

// BusName returns b.Name; it makes *Bus a device.Bus.
func (b *Bus) BusName() string { return b.Name }

// PMOps returns b.PM; it makes *Bus a device.PMProvider.
func (b *Bus) PMOps() *device.PMOps { return b.PM }

// DevicesRoot returns b.DevRoot; it makes *Bus a device.Bus.
func (b *Bus) DevicesRoot() string { return b.DevRoot }

// Path returns the bus's sysfs path, /sys/bus/<name>.
func (b *Bus) Path() string { return "/sys/bus/" + b.Name }

// busPriv is struct subsys_private: the bus's lists, guarded by Core.mu.
type busPriv struct {
	core      *Core
	devices   dlist[*devPriv] // klist_devices, registration order
	byName    map[string]*devPriv
	drivers   []*drvPriv // klist_drivers, registration order
	drvByName map[string]*drvPriv
	notifiers []notifier // copy-on-write
	nextNotif int
}
