package main

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/sim"
)

// This file is "my driver": the code a user wants to test. It drives a
// small temperature sensor behind a character device. The registers are
// reached only through a revocable provider that devres revokes at unbind,
// so a read racing the removal either completes or returns -ENODEV.
//
// It comes with one deliberate bug, switched on by buggy: the order of two
// devm registrations in probe. devres releases newest first, so the action
// registered first runs last. The correct probe registers iounmap first
// (it runs last, after the revoke has waited for every reader); the buggy
// probe registers it after the provider, so at unbind the registers are
// unmapped first, while a reader may still be inside its section. A plain
// test does not see the difference; exploring the interleavings does.

// sensor is the hardware state: the ioremap'ed registers, a simulated
// allocation that reports any access after it is freed (KASAN).
type sensor struct {
	regs *env.Object
}

// myDriver is the platform driver "mysensor".
type myDriver struct {
	buggy bool
}

// state is the driver's per-device data (dev_set_drvdata).
type state struct {
	prov *revocable.Provider[sensor]
}

// probe maps the registers and publishes them through a provider.
func (d *myDriver) probe(dev *device.Device) error {
	hw := &sensor{regs: dev.Env().Memory().Alloc("mysensor registers")} // devm_ioremap
	iounmap := func() { hw.regs.Free() }

	if !d.buggy {
		// Right: registered first, so released last, after the revoke.
		if _, err := dev.Devres().AddOrReset("iounmap", iounmap); err != nil {
			return err
		}
	}
	// devm_revocable_provider_alloc: revoked when devres is released.
	prov, err := revocable.DevmProvider(dev, hw, revocable.WithName("mysensor"))
	if err != nil {
		return err
	}
	if d.buggy {
		// BUG: registered after the provider, iounmap runs before the
		// revoke at unbind, with readers possibly still inside.
		if _, err := dev.Devres().AddOrReset("iounmap", iounmap); err != nil {
			return err
		}
	}
	dev.SetDrvdata(&state{prov: prov})
	return nil
}

// file is an open /dev/mysensor: it holds a consumer handle.
type file struct {
	d *myDriver
	c *revocable.Consumer[sensor]
}

// open is the character device's open.
func (d *myDriver) open(dev *device.Device) (*file, error) {
	st, ok := dev.Drvdata().(*state)
	if !ok {
		return nil, device.ErrNoDevice
	}
	c, err := revocable.New(st.prov)
	if err != nil {
		return nil, device.ErrNoDevice
	}
	return &file{d: d, c: c}, nil
}

// read reads the temperature register: the I2C transfer sleeps, and the
// device may go away meanwhile.
func (f *file) read() error {
	err := f.c.OrReturn(func(hw *sensor) error {
		kernel.CondResched(f.c, "i2c_transfer") // the transfer waits for the bus
		hw.regs.Access("read TEMP register")
		return nil
	})
	if errors.Is(err, revocable.ErrRevoked) {
		return fmt.Errorf("mysensor read: %w", device.ErrNoDevice)
	}
	return err
}

// close is the last close of the file.
func (f *file) close() error { return f.c.Close() }

// unplugRace is the lifecycle scenario the tests explore: a process has
// /dev/mysensor open and reads while the sensor is unplugged (its platform
// device deleted). Checked in every run: each read returns a value or
// -ENODEV; the close succeeds; at the end of the run every allocation has
// been freed exactly once (the Sim's KASAN and kmemleak checks).
type unplugRace struct {
	buggy bool
}

// scenario sets up one run on s: a machine, the driver bound to one
// sensor, the file open, and two tasks. It is a sim scenario: Explore
// calls it once per schedule.
func (u *unplugRace) scenario(s *sim.Sim) {
	// A machine on the run: its trace, schedule points, memory and clock
	// are the run's, and it ends with the run (no Close).
	sys := drvsim.NewSystem(drvsim.OnSim(s))

	d := &myDriver{buggy: u.buggy}
	must(sys.RegisterDriver(platform.NewDriver("mysensor", d.probe, nil)))
	dev := sys.NewPlatformDevice("mysensor")
	must(sys.RegisterDevice(dev)) // binds: probe runs here, in setup
	f, err := d.open(dev)
	must(err)

	s.Go("reader", func() {
		for range 2 {
			if err := f.read(); err != nil && !errors.Is(err, device.ErrNoDevice) {
				panic(fmt.Sprintf("read: want a value or -ENODEV, got %v", err))
			}
		}
		must(f.close())
	})
	s.Go("unplug", func() {
		must(sys.UnregisterDevice(dev)) // device_del: unbind, devres
	})
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
