package device

import (
	"container/list"
	"fmt"
	"strings"
	"sync"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// Bus is what a device knows of its bus (dev->bus); *bus.Bus implements it.
type Bus interface {
	// BusName is the bus's name, e.g. "platform".
	BusName() string
	// DevicesRoot is the directory under /sys/devices where the bus's
	// parentless devices live ("platform" for /sys/devices/platform); empty
	// puts them directly under /sys/devices.
	DevicesRoot() string
}

// Driver is what a device knows of its bound driver (dev->driver);
// *driver.Driver implements it.
type Driver interface {
	// DriverName is the driver's name.
	DriverName() string
}

// Device models struct device. Create it with New; the driver core
// initializes, adds and deletes it. All methods are safe for concurrent use.
type Device struct {
	name    string
	parent  *Device
	bus     Bus
	class   Class
	devt    DevT
	path    string
	release func(*Device)
	devres  *devres.List
	// platdata is dev->platform_data: set at New, never changed.
	platdata any

	mu        sync.Mutex
	env       *env.Env
	state     State
	dead      bool
	refs      int64
	released  bool
	driver    Driver
	drvdata   any
	override  string
	attrs     map[string]string
	priv      any
	children  *list.List // of *Device, in order of device_add
	childElem *list.Element
	suppliers []*Link
	consumers []*Link

	lk lockState

	refs2 *refTrack // where references were taken and dropped (under a simulator)
}

// Option configures a Device at New.
type Option func(*Device)

// WithParent sets the parent device (dev->parent): the device's sysfs path
// nests under the parent's, device_add takes a reference on the parent and
// device_del drops it.
func WithParent(p *Device) Option { return func(d *Device) { d.parent = p } }

// WithBus sets the bus the device belongs to (dev->bus). A nil bus, typed
// (a nil *bus.Bus) or not, leaves the device without one.
func WithBus(b Bus) Option {
	return func(d *Device) {
		if isNil(b) {
			b = nil
		}
		d.bus = b
	}
}

// WithRelease sets the release callback (dev->release), run exactly once
// when the last reference is dropped by put_device. A device without one
// draws the kernel's warning at release time.
func WithRelease(fn func(*Device)) Option { return func(d *Device) { d.release = fn } }

// New allocates a device named name (the kzalloc of a struct device plus
// dev_set_name). As kobject_set_name does, every '/' in the name becomes
// '!' (Name returns the result), so that a device named "a/b" is
// /sys/devices/a!b, never the child b of a. The name must be unique on its
// bus and its sysfs path unique in the system, and it must be a valid
// sysfs name (ValidateName); the driver core checks at device_add. nil
// options are ignored. The device is in StateNew until the core
// initializes it.
func New(name string, opts ...Option) *Device {
	name = kobjectName(name)
	d := &Device{name: name}
	for _, o := range opts {
		if o != nil {
			o(d)
		}
	}
	switch {
	case d.parent != nil && d.class != nil && d.parent.class == nil:
		// get_device_parent: a class device below a device of no class
		// sits in a glue directory named after its class.
		d.path = d.parent.path + "/" + d.class.ClassName() + "/" + name
	case d.parent != nil:
		d.path = d.parent.path + "/" + name
	case d.class != nil:
		d.path = "/sys/devices/virtual/" + d.class.ClassName() + "/" + name
	case d.bus != nil && d.bus.DevicesRoot() != "":
		d.path = "/sys/devices/" + d.bus.DevicesRoot() + "/" + name
	default:
		d.path = "/sys/devices/" + name
	}
	d.devres = devres.NewList(d.path)
	return d
}

// Name returns the device's name (dev_name).
func (d *Device) Name() string { return d.name }

// Parent returns the parent device or nil (dev->parent).
func (d *Device) Parent() *Device { return d.parent }

// Bus returns the device's bus or nil (dev->bus).
func (d *Device) Bus() Bus { return d.bus }

// BusName returns the name of the device's bus, or "" when it has none.
func (d *Device) BusName() string {
	if d.bus == nil {
		return ""
	}
	return d.bus.BusName()
}

// Path returns the sysfs-like path, e.g. "/sys/devices/platform/foo"
// (kobject_get_path).
func (d *Device) Path() string { return d.path }

// String returns the device's path.
func (d *Device) String() string { return d.path }

// Devres returns the device's managed-resource list (dev->devres_head).
func (d *Device) Devres() *devres.List { return d.devres }

// State returns the device's lifecycle state.
func (d *Device) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// IsDead reports whether device_del has started on the device
// (dev->p->dead, set by kill_device).
func (d *Device) IsDead() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dead
}

// IsRegistered reports whether the device has been added and not deleted
// (device_is_registered).
func (d *Device) IsRegistered() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state >= StateAdded && d.state < StateRemoved
}

// Driver returns the bound driver or nil (dev->driver). It is set while a
// probe runs, as in the kernel.
func (d *Device) Driver() Driver {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.driver
}

// DriverName returns the bound driver's name or "".
func (d *Device) DriverName() string {
	if drv := d.Driver(); drv != nil {
		return drv.DriverName()
	}
	return ""
}

// Children returns the registered children in order of device_add
// (device_for_each_child).
func (d *Device) Children() []*Device {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.children == nil {
		return nil
	}
	out := make([]*Device, 0, d.children.Len())
	for e := d.children.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*Device))
	}
	return out
}

// NumChildren returns how many registered children the device has.
func (d *Device) NumChildren() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.children == nil {
		return 0
	}
	return d.children.Len()
}

// DriverOverride returns the driver_override attribute ("" for none).
func (d *Device) DriverOverride() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.override
}

// SetDriverOverride sets driver_override with the kernel's rules
// (driver_set_override): only the driver named s may bind the device.
// s ends at its first NUL and at its first newline (what a write to the
// sysfs file leaves: "vfio-pci\n" sets "vfio-pci"); an empty result
// clears the override. A string of PAGE_SIZE-1 bytes or more is refused
// with ErrInvalid (the stored value must fit sysfs_emit with its newline).
// It does not rebind a bound device.
func (d *Device) SetDriverOverride(s string) error {
	if len(s) >= overrideMax {
		d.emit(trace.Warn, "driver_set_override", fmt.Sprintf("driver_override of %d bytes refused (limit %d)", len(s), overrideMax-1))
		return fmt.Errorf("driver_set_override %s: %d bytes, at most %d: %w", d.path, len(s), overrideMax-1, ErrInvalid)
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	d.mu.Lock()
	d.override = s
	d.mu.Unlock()
	d.emit(trace.Note, "driver_set_override", "driver_override="+s)
	return nil
}

// overrideMax is driver_set_override's bound: PAGE_SIZE - 1.
const overrideMax = 4096 - 1

// Env returns the environment of the machine the device lives in: its
// trace log, scheduler, memory arena and lockdep (nil before
// device_initialize, and for a nil device). It makes a Device an env.Host:
// whatever a driver creates for its device (a lock, a provider, a work
// item) passes the device and lives in the same machine.
func (d *Device) Env() *env.Env {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.env
}

// Log returns the trace log of the machine the device lives in (nil, which
// records nothing, before initialization).
func (d *Device) Log() *trace.Log { return d.Env().Log() }

func (d *Device) emit(kind trace.Kind, fn, msg string) {
	d.Log().Emit(trace.Event{Kind: kind, Dev: d.path, Func: fn, Msg: msg})
}
