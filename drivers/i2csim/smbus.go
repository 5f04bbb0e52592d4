package i2csim

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/sched"
)

// Chip is the hardware at an address: a register file an SMBus byte
// transfer reads or writes. Its methods run with no lock of the core held
// and must not block.
type Chip interface {
	ReadReg(reg uint8) (uint8, error)
	WriteReg(reg, v uint8) error
}

// Regs is a Chip of 256 plain byte registers, safe for concurrent use.
type Regs struct {
	mu sync.Mutex
	r  [256]uint8
}

// ReadReg implements Chip.
func (c *Regs) ReadReg(reg uint8) (uint8, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.r[reg], nil
}

// WriteReg implements Chip.
func (c *Regs) WriteReg(reg, v uint8) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r[reg] = v
	return nil
}

// Connect wires chip at addr of the adapter's bus segment (the hardware;
// nil disconnects it).
func (a *Adapter) Connect(addr uint16, chip Chip) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if chip == nil {
		delete(a.chips, addr)
		return
	}
	a.chips[addr] = chip
}

func (a *Adapter) chip(addr uint16) Chip {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.chips[addr]
}

// ReadByteData is i2c_smbus_read_byte_data: register reg of the client's
// chip. Nothing at the address is ErrNoDeviceOrAddress. It is a schedule
// point.
func (c *Client) ReadByteData(reg uint8) (uint8, error) {
	i := c.adap.i
	i.Env().Yield(sched.Point{Kind: "i2c_transfer", Func: "i2c_smbus_read_byte_data", Obj: c.dev.Name()})
	chip := c.adap.chip(c.info.Addr)
	if chip == nil {
		return 0, fmt.Errorf("i2c_smbus_read_byte_data %s reg %#x: %w", c.dev.Name(), reg, ErrNoDeviceOrAddress)
	}
	return chip.ReadReg(reg)
}

// WriteByteData is i2c_smbus_write_byte_data. It is a schedule point.
func (c *Client) WriteByteData(reg, v uint8) error {
	i := c.adap.i
	i.Env().Yield(sched.Point{Kind: "i2c_transfer", Func: "i2c_smbus_write_byte_data", Obj: c.dev.Name()})
	chip := c.adap.chip(c.info.Addr)
	if chip == nil {
		return fmt.Errorf("i2c_smbus_write_byte_data %s reg %#x: %w", c.dev.Name(), reg, ErrNoDeviceOrAddress)
	}
	return chip.WriteReg(reg, v)
}
