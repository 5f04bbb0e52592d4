// Package board is a small simulated board described in device-tree
// source, with a driver for each of its devices: a fixed 3.3 V regulator
// with a sync_state, a GPIO controller that is also an interrupt
// controller, an I2C-like controller whose driver populates the sensors
// below it, a temperature sensor (an interrupt, the regulator, a character
// device /dev/sensorN whose file operations are revocable) and an LED on
// a GPIO line. It is what `drvsim demo devicetree`, the shell's dt
// commands, the device-tree scenarios and docs/devicetree.md run.
//
//	sys := drvsim.NewSystem()
//	b, err := board.Register(sys)          // the drivers, the sensor class
//	err = b.Boot(board.Source)             // of.Load + of_platform_populate
//	ov, err := b.Tree().ApplyOverlay("sensor-overlay.dtso", board.SensorOverlay)
package board

import (
	_ "embed"
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/of/ofplatform"
	"github.com/drvsim/drvsim/revocable"
)

// Source is the board's device-tree source (board.dts).
//
//go:embed board.dts
var Source []byte

// SensorOverlay adds a second sensor, sensor@49 on interrupt 6, below the
// I2C controller (sensor-overlay.dtso).
//
//go:embed sensor-overlay.dtso
var SensorOverlay []byte

// UARTOverlay turns the disabled UART on (uart-overlay.dtso); the board
// has no driver for it.
//
//go:embed uart-overlay.dtso
var UARTOverlay []byte

// MaxSensors bounds the sensors' minors (/dev/sensor0 to sensorN-1).
const MaxSensors = 8

// Board is one machine's board support: the drivers, registered, and the
// sensor class and numbers. Create it with Register.
type Board struct {
	m       bus.Machine
	class   *chardev.Class
	base    device.DevT
	drivers []*driver.Driver
	mu      sync.Mutex // guards minors
	minors  [MaxSensors]bool
	// SampleHook, when set, runs inside every sensor read with the
	// regulator's and the registers' read sections held (a test's or a
	// scenario's schedule point).
	SampleHook func()
	// UnsafeReads is the classic bug, on purpose: the sensor's open keeps
	// a plain pointer to the chip's state and its reads use it outside any
	// read section, so a read after unbind touches the registers devres
	// has unmapped (a use-after-free the sanitizer reports).
	UnsafeReads bool
}

// Register registers the board's drivers on m in a fixed order (the
// sensor and LED drivers first, so that a consumer's driver is there
// before its suppliers bind, as with modules loaded in any order), and
// creates the sensor class and its numbers.
func Register(m bus.Machine) (*Board, error) {
	b := &Board{m: m}
	var err error
	if b.class, err = chardev.CreateClass(m, "sensor"); err != nil {
		return nil, err
	}
	if b.base, err = chardev.AllocRegion(m, 0, MaxSensors, "sensor"); err != nil {
		return nil, err
	}
	b.drivers = []*driver.Driver{b.sensorDriver(), ledDriver(), i2cDriver(), gpioDriver(), regulatorDriver()}
	for _, d := range b.drivers {
		if err := m.DriverCore().RegisterDriver(d); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Boot loads the device tree src as the machine's (of.Load) and populates
// it (ofplatform.Populate): the devices are added and bind in dependency
// order.
func (b *Board) Boot(src []byte) error {
	if _, err := of.Load(b.m, "board.dts", src); err != nil {
		return err
	}
	return ofplatform.Populate(b.m)
}

// Tree returns the machine's device tree (nil before Boot).
func (b *Board) Tree() *of.Tree { return of.TreeOf(b.m) }

// Drivers returns the board's drivers in registration order.
func (b *Board) Drivers() []*driver.Driver { return append([]*driver.Driver(nil), b.drivers...) }

// Class returns the sensor class.
func (b *Board) Class() *chardev.Class { return b.class }

// ofDriver is a platform driver matching one compatible.
func ofDriver(name string, table []driver.OFDeviceID, probe func(*device.Device) error, remove func(*device.Device)) *driver.Driver {
	d := platform.NewDriver(name, probe, remove)
	d.OFMatchTable = table
	return d
}

// Regulator is what the fixed regulator gives its consumers.
type Regulator struct {
	Name       string
	MicroVolts uint32
}

// regulatorDriver is the regulator-fixed driver: it reads the node's
// name and voltage and offers the regulator behind a revocable provider
// (revoked when it unbinds). Its sync_state says the regulator may now
// be left to its consumers' votes.
func regulatorDriver() *driver.Driver {
	d := ofDriver("reg-fixed", []driver.OFDeviceID{{Compatible: "regulator-fixed"}}, func(dev *device.Device) error {
		np := of.NodeOf(dev)
		name, err := np.ReadString("regulator-name")
		if err != nil {
			return err
		}
		uv, err := np.ReadU32("regulator-min-microvolt")
		if err != nil {
			return err
		}
		prov, err := revocable.DevmProvider(dev, &Regulator{Name: name, MicroVolts: uv}, revocable.WithName(name))
		if err != nil {
			return err
		}
		dev.SetDrvdata(prov)
		kernel.DevInfo(dev, "%s: %d mV, kept on from boot until sync_state", name, uv/1000)
		return nil
	}, nil)
	d.SyncState = func(dev *device.Device) {
		kernel.DevInfo(dev, "sync_state: every consumer has probed; the boot-on state may go")
	}
	return d
}

// RegulatorGet is devm_regulator_get(dev, supply) on the board: the
// regulator the node's <supply>-supply names, as a revocable consumer
// closed when dev unbinds. ErrProbeDefer while the regulator's device is
// not bound; ErrNoDevice when the node names none.
func RegulatorGet(dev *device.Device, supply string) (*revocable.Consumer[Regulator], error) {
	np := of.NodeOf(dev).ParsePhandle(supply+"-supply", 0)
	if np == nil {
		return nil, fmt.Errorf("regulator_get %s: no %s-supply: %w", dev.Path(), supply, device.ErrNoDevice)
	}
	rdev := ofplatform.FindDevice(np)
	if rdev == nil || rdev.State() != device.StateBound {
		return nil, fmt.Errorf("regulator_get %s: %s not ready: %w", dev.Path(), np.Path(), device.ErrProbeDefer)
	}
	prov, ok := rdev.Drvdata().(*revocable.Provider[Regulator])
	if !ok {
		return nil, fmt.Errorf("regulator_get %s: %s is no regulator: %w", dev.Path(), np.Path(), device.ErrNoDevice)
	}
	c, err := revocable.New(prov)
	if err != nil {
		return nil, fmt.Errorf("regulator_get %s: %w (%w)", dev.Path(), device.ErrProbeDefer, err)
	}
	if _, err := dev.Devres().AddOrReset("devm_regulator_release "+supply, func() { _ = c.Close() }); err != nil {
		return nil, err
	}
	return c, nil
}

// gpioDriver is the GPIO and interrupt controller: binding it registers
// its interrupt domain (package ofplatform's GetIRQ defers until then).
func gpioDriver() *driver.Driver {
	return ofDriver("acme-gpio", []driver.OFDeviceID{{Compatible: "acme,gpio"}}, func(dev *device.Device) error {
		r, err := ofplatform.GetResource(dev, 0)
		if err != nil {
			return err
		}
		kernel.DevInfo(dev, "gpiochip registered at %s, irq domain registered", r)
		return nil
	}, nil)
}

// i2cDriver is the I2C-like controller: its probe makes devices for the
// chips below it (devm_of_platform_populate).
func i2cDriver() *driver.Driver {
	return ofDriver("acme-i2c", []driver.OFDeviceID{{Compatible: "acme,i2c"}}, func(dev *device.Device) error {
		if _, err := RegulatorGet(dev, "vcc"); err != nil {
			return err
		}
		return ofplatform.DevmPopulate(dev)
	}, nil)
}

// ledDriver is the LED on a GPIO line, powered by the regulator.
func ledDriver() *driver.Driver {
	return ofDriver("acme-led", []driver.OFDeviceID{{Compatible: "acme,led"}}, func(dev *device.Device) error {
		np := of.NodeOf(dev)
		g, err := np.ParsePhandleWithArgs("enable-gpios", "#gpio-cells", 0)
		if err != nil {
			return err
		}
		if gd := ofplatform.FindDevice(g.Node); !ofplatform.ProviderReady(gd) {
			return fmt.Errorf("gpiod_get %s: %s not ready: %w", dev.Path(), g.Node.Path(), device.ErrProbeDefer)
		}
		if _, err := RegulatorGet(dev, "vdd"); err != nil {
			return err
		}
		kernel.DevInfo(dev, "enable on gpio %d", g.Args[0])
		return nil
	}, nil)
}
