package i2csim

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
)

// BoardInfo is struct i2c_board_info: what to instantiate on an adapter.
type BoardInfo struct {
	// Type is the chip type, matched against drivers' id tables
	// ("bq24190").
	Type string
	// Addr is the 7-bit address, 0x08 to 0x77.
	Addr uint16
	// IRQ is the client's interrupt line, 0 for none.
	IRQ int
}

// Client is struct i2c_client: a chip on an adapter, a device "N-00AA" of
// the i2c bus below the adapter.
type Client struct {
	adap *Adapter
	dev  *device.Device
	info BoardInfo
}

// NewClient is i2c_new_client_device: a client for info on the adapter,
// registered on the i2c bus, where a matching driver binds it. An address
// outside 0x08-0x77 is ErrInvalid, one already used on the adapter
// ErrBusy.
func (a *Adapter) NewClient(info BoardInfo) (*Client, error) {
	i := a.i
	if info.Addr < 0x08 || info.Addr > 0x77 || info.Type == "" {
		return nil, fmt.Errorf("i2c_new_client_device %s: type %q address %#x: %w", a.dev.Name(), info.Type, info.Addr, ErrInvalid)
	}
	name := fmt.Sprintf("%d-%04x", a.nr, info.Addr)
	if i.core.FindDevice(BusName, name) != nil {
		return nil, fmt.Errorf("i2c_new_client_device %s: address %#x: %w", a.dev.Name(), info.Addr, ErrBusy)
	}
	c := &Client{adap: a, info: info}
	c.dev = device.New(name, device.WithBus(i.bus), device.WithParent(a.dev), device.WithRelease(func(dev *device.Device) {
		i.mu.Lock()
		delete(i.clients, dev)
		i.mu.Unlock()
	}))
	c.dev.SetAttr("name", info.Type)
	i.mu.Lock()
	i.clients[c.dev] = c
	i.mu.Unlock()
	if err := i.core.RegisterDevice(c.dev); err != nil {
		i.mu.Lock()
		delete(i.clients, c.dev)
		i.mu.Unlock()
		_ = c.dev.Put()
		return nil, fmt.Errorf("i2c_new_client_device %s: %w", name, err)
	}
	i.emit(c.dev.Path(), "i2c_new_client_device", fmt.Sprintf("client [%s] at %#x", info.Type, info.Addr))
	return c, nil
}

// Unregister is i2c_unregister_device: the client's driver is unbound and
// the device unregistered.
func (c *Client) Unregister() {
	if err := c.adap.i.core.UnregisterDevice(c.dev); err != nil {
		c.adap.i.emit(c.dev.Path(), "i2c_unregister_device", device.ErrnoName(err))
	}
}

// Dev returns the client's device (&client->dev).
func (c *Client) Dev() *device.Device { return c.dev }

// Adapter returns the adapter the client sits on (client->adapter).
func (c *Client) Adapter() *Adapter { return c.adap }

// Name returns the chip type (client->name).
func (c *Client) Name() string { return c.info.Type }

// Addr returns the client's address.
func (c *Client) Addr() uint16 { return c.info.Addr }

// IRQ returns the client's interrupt line (client->irq), 0 for none.
func (c *Client) IRQ() int { return c.info.IRQ }

// SetClientdata is i2c_set_clientdata.
func (c *Client) SetClientdata(v any) { c.dev.SetDrvdata(v) }

// Clientdata is i2c_get_clientdata.
func (c *Client) Clientdata() any { return c.dev.Drvdata() }
