package lifecycle

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

// The endings of RevocableReadersVsUnregister: how many of the two
// readers found the registers.
const (
	// BothRead: both reads ran before the revoke.
	BothRead Ending = "both readers read the registers"
	// OneReadOneRevoked: one read ran before the revoke, the other found
	// the resource revoked.
	OneReadOneRevoked Ending = "one reader read the registers, the other got -ENODEV"
	// BothRevoked: the revoke came before both reads.
	BothRevoked Ending = "both readers got -ENODEV"
)

// sensorRegs is the sensor driver's register window: simulated memory, so
// a read after the window is unmapped is a reported use-after-free.
type sensorRegs struct{ mem *env.Object }

// RevocableReadersVsUnregister is two readers of a driver's revocable
// resource racing device_unregister. The sensor platform driver's probe
// maps its registers (a devm action unmaps them) and publishes them
// through revocable.DevmProvider, whose devm action revokes them; devres
// releases newest first, so the revoke runs before the unmap. During
// setup the device binds and two readers open consumers (a file's open);
// then the reader1 and reader2 tasks each read the registers once inside
// a read section that sleeps between two accesses (cond_resched: an I2C
// transfer) and close their consumer, while the unregister task calls
// device_unregister. The revoke's synchronize_srcu waits for a reader
// inside its section, so no read touches unmapped registers.
//
// Every run must end with each read having found the registers or
// ErrRevoked (-ENODEV), the provider revoked and released, the registers
// freed, and the device removed and released: BothRead,
// OneReadOneRevoked or BothRevoked.
func RevocableReadersVsUnregister(o *Outcomes) func(*sim.Sim) {
	return readersVsUnregister(o, false)
}

// readersVsUnregister is RevocableReadersVsUnregister; with unmapFirst
// the driver gets its devres order wrong: it publishes the provider before
// it maps the registers' devm action, so the unmap runs before the revoke
// and a reader inside its section touches unmapped registers.
func readersVsUnregister(o *Outcomes, unmapFirst bool) func(*sim.Sim) {
	return func(s *sim.Sim) {
		sys := o.System(s)
		var prov *revocable.Provider[sensorRegs]
		var regs *sensorRegs
		drv := platform.NewDriver("sensor", func(dev *device.Device) error {
			regs = &sensorRegs{mem: dev.Env().Memory().Alloc("sensor regs")} // devm_ioremap
			unmap := func() error {
				_, err := dev.Devres().Add("iounmap", regs.mem.Free)
				return err
			}
			if !unmapFirst {
				if err := unmap(); err != nil {
					regs.mem.Free()
					return err
				}
			}
			var err error
			if prov, err = revocable.DevmProvider(dev, regs, revocable.WithName("sensor-regs")); err != nil || !unmapFirst {
				return err
			}
			return unmap()
		}, nil)
		if err := sys.RegisterDriver(drv); err != nil {
			panic(err)
		}
		dev := sys.NewPlatformDevice("sensor")
		if err := sys.RegisterDevice(dev); err != nil { // binds: probe runs here
			panic(err)
		}
		if prov == nil {
			panic("sensor: not bound after device_register")
		}
		r := &readersRun{sys: sys, prov: prov, regs: regs, dev: dev}
		for i, name := range []string{"reader1", "reader2"} {
			c, err := revocable.New(prov) // the reader's open()
			if err != nil {
				panic(err)
			}
			s.Go(name, func() { r.errs[i] = r.read(c) })
		}
		s.Go("unregister", func() {
			if err := sys.UnregisterDevice(dev); err != nil { // device_unregister
				panic(err)
			}
		})
		s.AddLeakCheck("sensor after device_unregister", func() []string {
			defer o.Release(sys)
			return o.check(r.after())
		})
	}
}

// readersRun is what RevocableReadersVsUnregister's end-of-run check
// looks at.
type readersRun struct {
	sys  *drvsim.System
	prov *revocable.Provider[sensorRegs]
	regs *sensorRegs
	dev  *device.Device
	errs [2]error // each reader's result
}

// read is one reader: a read section around two accesses to the
// registers with a sleep between them, then the file's release.
func (r *readersRun) read(c *revocable.Consumer[sensorRegs]) error {
	err := c.OrReturn(func(regs *sensorRegs) error {
		regs.mem.Access("sensor_read")
		kernel.CondResched(r.sys, "sensor_read")
		regs.mem.Access("sensor_read")
		return nil
	})
	if cerr := c.Close(); cerr != nil {
		panic(cerr)
	}
	return err
}

// after is the ending of a run and what is wrong with it.
func (r *readersRun) after() (Ending, []string) {
	var bad []string
	read := 0
	for i, err := range r.errs {
		switch {
		case err == nil:
			read++
		case !errors.Is(err, revocable.ErrRevoked):
			bad = append(bad, fmt.Sprintf("reader%d: %v, want the registers or -ENODEV", i+1, err))
		}
	}
	if !r.prov.Revoked() || !r.prov.Released() || r.prov.Refs() != 0 {
		bad = append(bad, fmt.Sprintf("provider revoked=%v released=%v refs=%d", r.prov.Revoked(), r.prov.Released(), r.prov.Refs()))
	}
	if !r.regs.mem.Freed() {
		bad = append(bad, "registers never unmapped")
	}
	if r.dev.State() != device.StateRemoved || r.dev.Refs() != 0 || !r.dev.Released() {
		bad = append(bad, fmt.Sprintf("device state %s, %d references, released=%v", r.dev.State(), r.dev.Refs(), r.dev.Released()))
	}
	switch read {
	case 2:
		return BothRead, bad
	case 1:
		return OneReadOneRevoked, bad
	}
	return BothRevoked, bad
}
