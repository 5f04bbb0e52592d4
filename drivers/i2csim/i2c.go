package i2csim

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// BusName is the I2C bus's name (i2c_bus_type).
const BusName = "i2c"

// Kind is the trace kind of the I2C core's events.
const Kind trace.Kind = "i2c"

// Errors, the errnos of these paths (package device's values).
var (
	// ErrInvalid is -EINVAL: a nil adapter, driver or client, a bad
	// address, an adapter number in use.
	ErrInvalid = device.ErrInvalid
	// ErrBusy is -EBUSY: an address already taken on the adapter, a
	// driver registered twice.
	ErrBusy = device.ErrBusy
	// ErrNoDevice is -ENODEV: no id of the driver matches the client.
	ErrNoDevice = device.ErrNoDevice
	// ErrNoDeviceOrAddress is -ENXIO: nothing answers at the address.
	ErrNoDeviceOrAddress = device.ErrNoDeviceOrAddress
)

// I2C is the I2C core of one machine: the i2c bus on its driver core, the
// registered adapters, clients and drivers. Create it with Init. Its
// methods are safe for concurrent use.
type I2C struct {
	core *bus.Core
	bus  *bus.Bus

	mu       sync.Mutex
	adapters map[*device.Device]*Adapter
	clients  map[*device.Device]*Client
	drivers  map[*driver.Driver]*Driver
	nextNr   int
}

// Init is i2c_init on machine m (a drvsim.System or a *bus.Core): it
// registers the "i2c" bus, whose match, probe and remove are
// i2c_device_match, i2c_device_probe and i2c_device_remove.
func Init(m bus.Machine) (*I2C, error) {
	if m == nil || reflect.ValueOf(m).IsNil() {
		return nil, fmt.Errorf("i2c_init: no machine: %w", ErrInvalid)
	}
	i := &I2C{
		core:     m.DriverCore(),
		adapters: map[*device.Device]*Adapter{},
		clients:  map[*device.Device]*Client{},
		drivers:  map[*driver.Driver]*Driver{},
	}
	i.bus = &bus.Bus{Name: BusName, Match: i.match, Probe: i.probe, Remove: i.remove}
	if err := i.core.RegisterBus(i.bus); err != nil {
		return nil, fmt.Errorf("i2c_init: %w", err)
	}
	return i, nil
}

// Core returns the driver core the bus is registered on.
func (i *I2C) Core() *bus.Core { return i.core }

// DriverCore returns the driver core (it makes an I2C a bus.Machine).
func (i *I2C) DriverCore() *bus.Core { return i.core }

// Env returns the machine's environment (it makes an I2C an env.Host).
func (i *I2C) Env() *env.Env { return i.core.Env() }

// Bus returns the i2c bus (i2c_bus_type).
func (i *I2C) Bus() *bus.Bus { return i.bus }

// AdapterOf returns the adapter behind a device of the bus
// (i2c_verify_adapter), nil for a client or another device.
func (i *I2C) AdapterOf(dev *device.Device) *Adapter {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.adapters[dev]
}

// ClientOf returns the client behind a device of the bus
// (i2c_verify_client), nil for an adapter or another device.
func (i *I2C) ClientOf(dev *device.Device) *Client {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.clients[dev]
}

// Adapters returns the registered adapters in order of their numbers
// (i2c_for_each_dev over the adapters).
func (i *I2C) Adapters() []*Adapter {
	var out []*Adapter
	for _, dev := range i.core.BusDevices(BusName) {
		if a := i.AdapterOf(dev); a != nil {
			out = append(out, a)
		}
	}
	return out
}

func (i *I2C) emit(dev, fn, msg string) {
	i.core.Log().Emit(trace.Event{Kind: Kind, Dev: dev, Func: fn, Msg: msg})
}

// match is i2c_device_match: a client and a driver whose id table names
// the client's type (i2c_match_id); adapters match no driver.
func (i *I2C) match(dev *device.Device, drv *driver.Driver) bool {
	i.mu.Lock()
	c, d := i.clients[dev], i.drivers[drv]
	i.mu.Unlock()
	if c == nil || d == nil {
		return false
	}
	_, ok := d.matchID(c)
	return ok
}

// probe is i2c_device_probe: the driver's probe with the matching id.
func (i *I2C) probe(dev *device.Device, drv *driver.Driver) error {
	i.mu.Lock()
	c, d := i.clients[dev], i.drivers[drv]
	i.mu.Unlock()
	if c == nil || d == nil {
		return fmt.Errorf("i2c_device_probe %s: not an i2c client or driver: %w", dev.Path(), ErrNoDevice)
	}
	id, ok := d.matchID(c)
	if !ok {
		return fmt.Errorf("i2c_device_probe %s: %w", dev.Path(), ErrNoDevice)
	}
	if d.Probe == nil {
		return nil
	}
	return d.Probe(c, id)
}

// remove is i2c_device_remove: the driver's remove.
func (i *I2C) remove(dev *device.Device, drv *driver.Driver) {
	i.mu.Lock()
	c, d := i.clients[dev], i.drivers[drv]
	i.mu.Unlock()
	if c != nil && d != nil && d.Remove != nil {
		d.Remove(c)
	}
}
