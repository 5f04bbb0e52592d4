// Package driver models struct device_driver (include/linux/device/driver.h):
// a named driver for one bus with probe, remove and shutdown callbacks, an
// id table of match data, a probe type and the suppress_bind_attrs flag.
//
// A Driver is plain configuration: fill in the fields and register it with
// the driver core (bus.Core.RegisterDriver, or drvsim.System.RegisterDriver,
// modelling driver_register). Layering: driver imports device only.
package driver

import (
	"fmt"
	"strings"
	"sync"

	"github.com/drvsim/drvsim/device"
)

// ProbeType is enum probe_type: whether the driver's probes may run
// asynchronously.
type ProbeType int

// Probe types.
const (
	// ProbeDefaultStrategy is PROBE_DEFAULT_STRATEGY: synchronous in
	// drvsim (the kernel's default without the async_probe parameter).
	ProbeDefaultStrategy ProbeType = iota
	// ProbePreferAsynchronous is PROBE_PREFER_ASYNCHRONOUS: probes run on
	// the system's async worker (driver_allows_async_probing).
	ProbePreferAsynchronous
	// ProbeForceSynchronous is PROBE_FORCE_SYNCHRONOUS.
	ProbeForceSynchronous
)

// String returns the kernel's name for the probe type.
func (p ProbeType) String() string {
	switch p {
	case ProbePreferAsynchronous:
		return "PROBE_PREFER_ASYNCHRONOUS"
	case ProbeForceSynchronous:
		return "PROBE_FORCE_SYNCHRONOUS"
	default:
		return "PROBE_DEFAULT_STRATEGY"
	}
}

// ID is one entry of a driver's id table (struct platform_device_id and its
// relatives): the name a device must have and the driver data handed to
// probe (driver_data).
type ID struct {
	Name string
	Data any
}

// Driver models struct device_driver. Only Name and Bus are required; a nil
// Probe binds without calling anything, as in the kernel.
type Driver struct {
	// Name is the driver's name, unique on its bus.
	Name string
	// Bus is the name of the bus the driver registers on.
	Bus string
	// Probe binds the driver to dev. nil: bind, ErrProbeDefer: retry later,
	// ErrNoDevice/ErrNoDeviceOrAddress: quietly not mine, any
	// other error: the probe failed (logged).
	Probe func(dev *device.Device) error
	// Remove is called when the driver unbinds from a bound device.
	Remove func(dev *device.Device)
	// Shutdown is called for a bound device at system shutdown.
	Shutdown func(dev *device.Device)
	// IDTable is the driver's match table (id_table / of_match_table).
	IDTable []ID
	// ProbeType selects synchronous or asynchronous probing.
	ProbeType ProbeType
	// SuppressBindAttrs removes the sysfs bind and unbind files
	// (suppress_bind_attrs): manual Bind and Unbind are refused.
	SuppressBindAttrs bool

	mu   sync.Mutex
	priv any
}

// DriverName returns d.Name; it makes *Driver a device.Driver.
func (d *Driver) DriverName() string { return d.Name }

// String returns "bus/name".
func (d *Driver) String() string { return d.Bus + "/" + d.Name }

// Path returns the driver's sysfs path, /sys/bus/<bus>/drivers/<name>.
func (d *Driver) Path() string { return "/sys/bus/" + d.Bus + "/drivers/" + d.Name }

// AllowsAsyncProbing is driver_allows_async_probing.
func (d *Driver) AllowsAsyncProbing() bool { return d.ProbeType == ProbePreferAsynchronous }

// Validate checks what driver_register requires: a name and a bus. It
// returns an ErrInvalid error naming the missing field, or the error of
// device.ValidateName for a name that cannot be a sysfs directory (too
// long, a '/' or a control character).
func (d *Driver) Validate() error {
	var missing []string
	if d == nil {
		return fmt.Errorf("driver_register: nil driver: %w", ErrInvalid)
	}
	if d.Name != "" && d.Bus != "" {
		if err := device.ValidateName("driver_register", d.Name); err != nil {
			return err
		}
		return device.ValidateName("driver_register "+d.Name+": bus", d.Bus)
	}
	if d.Name == "" {
		missing = append(missing, "name")
	}
	if d.Bus == "" {
		missing = append(missing, "bus")
	}
	if len(missing) > 0 {
		return fmt.Errorf("driver_register %q: missing %s: %w", d.Name, strings.Join(missing, ", "), ErrInvalid)
	}
	return nil
}

// MatchID returns the id-table entry for a device named name
// (platform_match_id): an entry whose Name equals name, or equals name
// without a trailing ".N" instance number.
func (d *Driver) MatchID(name string) (ID, bool) {
	base := BaseName(name)
	for _, id := range d.IDTable {
		if id.Name == name || id.Name == base {
			return id, true
		}
	}
	return ID{}, false
}

// BaseName strips a trailing ".N" instance suffix ("uart.1" -> "uart").
func BaseName(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return name
	}
	for _, c := range name[i+1:] {
		if c < '0' || c > '9' {
			return name
		}
	}
	return name[:i]
}

// CallProbe runs d.Probe (nil Probe succeeds); a bus probe callback that
// wraps the driver's uses it. A nil device gives ErrInvalid.
func (d *Driver) CallProbe(dev *device.Device) error {
	if dev == nil {
		return fmt.Errorf("probe %s: nil device: %w", d.Name, ErrInvalid)
	}
	if d.Probe == nil {
		return nil
	}
	return d.Probe(dev)
}

// CallRemove runs d.Remove if set. A nil device is not removed: nothing
// runs.
func (d *Driver) CallRemove(dev *device.Device) {
	if d.Remove != nil && dev != nil {
		d.Remove(dev)
	}
}

// CallShutdown runs d.Shutdown if set. A nil device is not shut down:
// nothing runs.
func (d *Driver) CallShutdown(dev *device.Device) {
	if d.Shutdown != nil && dev != nil {
		d.Shutdown(dev)
	}
}

// Private returns the driver core's data for the driver (drv->p). For the
// driver core only.
func (d *Driver) Private() any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.priv
}

// SetPrivate sets the driver core's data (drv->p). For the driver core only.
func (d *Driver) SetPrivate(p any) {
	d.mu.Lock()
	d.priv = p
	d.mu.Unlock()
}
