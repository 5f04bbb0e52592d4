package i2csim

import (
	"fmt"

	"github.com/drvsim/drvsim/driver"
)

// DeviceID is struct i2c_device_id: a chip type and the driver's data for
// it.
type DeviceID struct {
	Name string
	Data any
}

// Driver is struct i2c_driver: an id table, a probe and a remove. Fill it
// in and register it with I2C.AddDriver.
type Driver struct {
	// Name is the driver's name (/sys/bus/i2c/drivers/<Name>).
	Name string
	// IDTable lists the chip types the driver handles.
	IDTable []DeviceID
	// Probe binds the driver to c; id is the matching table entry.
	Probe func(c *Client, id DeviceID) error
	// Remove unbinds it.
	Remove func(c *Client)

	i   *I2C
	drv *driver.Driver
}

// matchID is i2c_match_id: the table entry naming c's type.
func (d *Driver) matchID(c *Client) (DeviceID, bool) {
	for _, id := range d.IDTable {
		if id.Name == c.info.Type {
			return id, true
		}
	}
	return DeviceID{}, false
}

// AddDriver is i2c_add_driver: the driver joins the i2c bus and binds
// every client it matches.
func (i *I2C) AddDriver(d *Driver) error {
	if d == nil || d.Name == "" {
		return fmt.Errorf("i2c_register_driver: driver without a name: %w", ErrInvalid)
	}
	if d.i != nil {
		return fmt.Errorf("i2c_register_driver %s: registered already: %w", d.Name, ErrBusy)
	}
	drv := &driver.Driver{Name: d.Name, Bus: BusName}
	i.mu.Lock()
	d.i, d.drv = i, drv
	i.drivers[drv] = d
	i.mu.Unlock()
	if err := i.core.RegisterDriver(drv); err != nil {
		i.mu.Lock()
		delete(i.drivers, drv)
		d.i, d.drv = nil, nil
		i.mu.Unlock()
		return fmt.Errorf("i2c_register_driver %s: %w", d.Name, err)
	}
	i.emit(drv.Path(), "i2c_register_driver", "driver ["+d.Name+"] registered")
	return nil
}

// DelDriver is i2c_del_driver: the driver is unbound from every client
// and leaves the bus.
func (i *I2C) DelDriver(d *Driver) error {
	if d == nil || d.i != i {
		return fmt.Errorf("i2c_del_driver: driver not registered: %w", ErrInvalid)
	}
	if err := i.core.UnregisterDriver(d.drv); err != nil {
		return fmt.Errorf("i2c_del_driver %s: %w", d.Name, err)
	}
	i.mu.Lock()
	delete(i.drivers, d.drv)
	d.i, d.drv = nil, nil
	i.mu.Unlock()
	i.emit("", "i2c_del_driver", "driver ["+d.Name+"] unregistered")
	return nil
}
