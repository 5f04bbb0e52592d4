package bus_test

import (
	"errors"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
)

// FuzzDriverCoreOps drives the driver core and revocable with a random
// sequence of operations, on real goroutines, and checks after every step
// the invariants of a small reference model:
//
//   - the model knows which devices and drivers are registered, and the
//     core agrees;
//   - no device is bound to an unregistered driver, nor to a driver that
//     does not match it, and a bound device is on its driver's list;
//   - devres is empty on an unbound device, and a bound device's probe has
//     run once more than its remove;
//   - a registered device holds device_initialize's reference only, a
//     removed one is released;
//   - every open consumer of a device's provider reads the live resource,
//     or nil once the provider is revoked, never a freed one; a provider's
//     references are 1 (until revoked) plus its open consumers;
//   - a manual bind answers as the probe the model chose.
//
// At the end every driver probes successfully, a flush of the deferred
// list binds every registered device whose driver is registered, then
// everything is unregistered and closed: every device and provider is
// released, every oops was one the model injected, and no goroutine is
// left.
//
// Each operation is two bytes of the input: the operation, its argument.
func FuzzDriverCoreOps(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 2, 0, 6, 0, 7, 0, 5, 0, 7, 0, 3, 0})               // bind, open, read, unbind, read, unregister
	f.Add([]byte{10, 2, 0, 0, 2, 0, 10, 0, 11, 0, 6, 0, 1, 0, 7, 0})      // a deferred probe, then flush
	f.Add([]byte{10, 3, 0, 1, 2, 1, 4, 1, 10, 0, 4, 1, 9, 0, 7, 0})       // an oops, then bind
	f.Add([]byte{0, 2, 2, 2, 2, 5, 6, 2, 6, 5, 8, 0, 1, 2, 7, 1, 3, 2})   // two devices, consumers, driver gone
	f.Add([]byte{2, 0, 0, 0, 6, 0, 9, 0, 7, 0, 12, 0, 5, 0, 12, 0, 3, 0}) // revoke then rebind
	f.Fuzz(func(t *testing.T, ops []byte) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		m := newOpsModel(t)
		defer m.c.Close()
		for i := 0; i+1 < len(ops) && i < 2*64; i += 2 {
			m.step(ops[i], ops[i+1])
			m.check(fmt.Sprintf("after op %d (%d %d)", i/2, ops[i], ops[i+1]))
		}
		m.finish()
	})
}

// Probe modes a model driver may be in.
const (
	probeOK    = iota // binds, with a devm provider of a resource
	probeFail         // -EIO after a devm action
	probeDefer        // -EPROBE_DEFER after a devm action
	probeOops         // a nil dereference after a devm action
	probeModes
)

const (
	opsDrivers = 3
	opsDevices = 6 // device j matches driver j%opsDrivers
)

type opsRes struct{ alive bool }

// opsDevice is the model of one device.
type opsDevice struct {
	dev        *device.Device
	registered bool
	probes     int // successful probes
	removes    int
	prov       *revocable.Provider[opsRes] // the last successful probe's
	res        *opsRes
}

// opsDriverState is the model of one driver.
type opsDriverState struct {
	name       string
	registered bool
	mode       int
	drv        *driver.Driver
}

type opsModel struct {
	t         *testing.T
	c         *bus.Core
	b         *bus.Bus
	drivers   [opsDrivers]*opsDriverState
	devices   [opsDevices]*opsDevice
	consumers []*opsConsumer
	oopses    int // probes that panicked (the model's probe counts them)
}

type opsConsumer struct {
	c   *revocable.Consumer[opsRes]
	dev *opsDevice
	p   *revocable.Provider[opsRes]
}

func newOpsModel(t *testing.T) *opsModel {
	t.Helper()
	e := env.New()
	c := bus.NewCore(e)
	b := platform.NewBus()
	if err := c.RegisterBus(b); err != nil {
		t.Fatal(err)
	}
	m := &opsModel{t: t, c: c, b: b}
	for i := range m.drivers {
		m.drivers[i] = &opsDriverState{name: fmt.Sprintf("drv%d", i)}
	}
	for j := range m.devices {
		m.devices[j] = &opsDevice{}
	}
	return m
}

// device returns the model of the device with that core device.
func (m *opsModel) deviceOf(dev *device.Device) *opsDevice {
	for _, d := range m.devices {
		if d.dev == dev {
			return d
		}
	}
	m.t.Fatalf("unknown device %s", dev.Path())
	return nil
}

// newDriver builds driver i's *driver.Driver, whose probe follows the
// model's mode for it at the time of the probe.
func (m *opsModel) newDriver(i int) *driver.Driver {
	ds := m.drivers[i]
	drv := platform.NewDriver(ds.name, func(dev *device.Device) error {
		d := m.deviceOf(dev)
		res := &opsRes{alive: true}
		if _, err := dev.Devres().Add("free_res", func() { res.alive = false }); err != nil {
			return err
		}
		switch ds.mode {
		case probeFail:
			return device.ErrIO
		case probeDefer:
			return device.ErrProbeDefer
		case probeOops:
			m.oopses++
			var p *opsRes
			_ = p.alive // oops
		}
		p, err := revocable.DevmProvider(dev, res, revocable.WithName(dev.Name()))
		if err != nil {
			return err
		}
		d.prov, d.res = p, res
		d.probes++
		return nil
	}, func(dev *device.Device) {
		m.deviceOf(dev).removes++
	})
	return drv
}

func (m *opsModel) step(op, arg byte) {
	t, c := m.t, m.c
	i := int(arg) % opsDrivers
	j := int(arg) % opsDevices
	d := m.devices[j]
	switch op % 13 {
	case 0: // driver_register
		ds := m.drivers[i]
		if ds.registered {
			return
		}
		drv := m.newDriver(i)
		if err := c.RegisterDriver(drv); err != nil {
			t.Fatalf("driver_register %s: %v", ds.name, err)
		}
		ds.registered, ds.drv = true, drv
	case 1: // driver_unregister
		ds := m.drivers[i]
		err := c.UnregisterDriver(ds.drv)
		if ds.registered != (err == nil) {
			t.Fatalf("driver_unregister %s: %v with the driver registered=%v", ds.name, err, ds.registered)
		}
		ds.registered = false
	case 2: // device_register
		if d.registered {
			return
		}
		d.dev = platform.NewDevice(m.b, fmt.Sprintf("drv%d.%d", j%opsDrivers, j))
		if err := c.RegisterDevice(d.dev); err != nil {
			t.Fatalf("device_register: %v", err)
		}
		d.registered = true
	case 3: // device_unregister
		if d.dev == nil {
			return
		}
		err := c.UnregisterDevice(d.dev)
		if d.registered != (err == nil) {
			t.Fatalf("device_unregister %s: %v with registered=%v", d.dev.Path(), err, d.registered)
		}
		if err == nil && !d.dev.Released() {
			t.Fatalf("device_unregister %s: not released (refs %d)", d.dev.Path(), d.dev.Refs())
		}
		d.registered = false
	case 4: // bind
		if !d.registered {
			return
		}
		ds := m.drivers[j%opsDrivers]
		bound := d.dev.Driver() != nil
		err := c.Bind(d.dev, ds.name)
		switch {
		case !ds.registered:
			if !errors.Is(err, device.ErrNoEntry) {
				t.Fatalf("bind to an unregistered driver: %v", err)
			}
		case bound:
			if !errors.Is(err, device.ErrBusy) {
				t.Fatalf("bind of a bound device: %v", err)
			}
		case ds.mode == probeOK:
			if err != nil {
				t.Fatalf("bind: %v", err)
			}
		case ds.mode == probeFail:
			if !errors.Is(err, device.ErrIO) {
				t.Fatalf("bind with a failing probe: %v", err)
			}
		case ds.mode == probeDefer:
			if !errors.Is(err, device.ErrAgain) || !errors.Is(err, device.ErrProbeDefer) {
				t.Fatalf("bind with a deferring probe: %v", err)
			}
		case ds.mode == probeOops:
			if !errors.Is(err, env.ErrOops) {
				t.Fatalf("bind with an oopsing probe: %v", err)
			}
		}
	case 5: // unbind
		if !d.registered {
			return
		}
		bound := d.dev.Driver() != nil
		err := c.Unbind(d.dev)
		if bound != (err == nil) {
			t.Fatalf("unbind: %v with bound=%v", err, bound)
		}
	case 6: // open a consumer on the device's provider
		if d.prov == nil {
			return
		}
		cons, err := revocable.New(d.prov)
		if d.prov.Revoked() != (err != nil) {
			t.Fatalf("revocable_init: %v with revoked=%v", err, d.prov.Revoked())
		}
		if err == nil {
			m.consumers = append(m.consumers, &opsConsumer{c: cons, dev: d, p: d.prov})
		}
	case 7: // read through every open consumer
		for _, oc := range m.consumers {
			r, a := oc.c.TryAccess()
			switch {
			case r == nil && !oc.p.Revoked():
				t.Fatalf("nil resource from a provider that is not revoked")
			case r != nil && !r.alive:
				t.Fatalf("use after free: a reader got a freed resource")
			}
			a.Release()
		}
	case 8: // close a consumer
		if len(m.consumers) == 0 {
			return
		}
		k := int(arg) % len(m.consumers)
		if err := m.consumers[k].c.Close(); err != nil {
			t.Fatalf("revocable_deinit: %v", err)
		}
		m.consumers = append(m.consumers[:k], m.consumers[k+1:]...)
	case 9: // revoke the device's provider directly
		if d.prov != nil {
			d.prov.Revoke()
		}
	case 10: // change a driver's probe mode for the probes to come
		ds := m.drivers[int(arg)%opsDrivers]
		ds.mode = int(arg/opsDrivers) % probeModes
	case 11: // flush the deferred list
		c.FlushDeferred()
	case 12: // device_attach
		if !d.registered {
			return
		}
		bound, err := c.Attach(d.dev)
		if err != nil {
			t.Fatalf("device_attach: %v", err)
		}
		if bound != (d.dev.Driver() != nil) {
			t.Fatalf("device_attach says bound=%v", bound)
		}
	}
}

func (m *opsModel) check(when string) {
	t, c := m.t, m.c
	for _, ds := range m.drivers {
		found := c.FindDriver(platform.Name, ds.name) != nil
		if found != ds.registered {
			t.Fatalf("%s: driver %s found=%v, model registered=%v", when, ds.name, found, ds.registered)
		}
	}
	for j, d := range m.devices {
		if d.dev == nil {
			continue
		}
		dev := d.dev
		if dev.IsRegistered() != d.registered {
			t.Fatalf("%s: %s registered=%v, model %v", when, dev.Path(), dev.IsRegistered(), d.registered)
		}
		if dev.Locked() {
			t.Fatalf("%s: %s left locked", when, dev.Path())
		}
		if d.registered && dev.Refs() != 1 {
			t.Fatalf("%s: %s holds %d references, the model 1 (device_initialize's)", when, dev.Path(), dev.Refs())
		}
		if drv := dev.DriverName(); drv != "" {
			ds := m.drivers[j%opsDrivers]
			if drv != ds.name {
				t.Fatalf("%s: %s bound to %s, which does not match it", when, dev.Path(), drv)
			}
			if !ds.registered {
				t.Fatalf("%s: %s bound to %s, which is unregistered", when, dev.Path(), drv)
			}
			listed := false
			for _, x := range c.BoundDevices(ds.drv) {
				listed = listed || x == dev
			}
			if !listed {
				t.Fatalf("%s: %s bound but not on the driver's list", when, dev.Path())
			}
			if d.probes != d.removes+1 {
				t.Fatalf("%s: %s bound with %d probes and %d removes", when, dev.Path(), d.probes, d.removes)
			}
			if d.prov == nil || d.res == nil || !d.res.alive {
				t.Fatalf("%s: %s bound without a live resource", when, dev.Path())
			}
		} else {
			if !dev.Devres().Empty() {
				t.Fatalf("%s: %s unbound with devres %v", when, dev.Path(), dev.Devres().Names())
			}
			if d.probes != d.removes {
				t.Fatalf("%s: %s unbound with %d probes and %d removes", when, dev.Path(), d.probes, d.removes)
			}
			if d.prov != nil && !d.prov.Revoked() {
				t.Fatalf("%s: %s unbound with its provider not revoked", when, dev.Path())
			}
			if d.res != nil && d.res.alive {
				t.Fatalf("%s: %s unbound with its resource not freed", when, dev.Path())
			}
		}
	}
	open := map[*revocable.Provider[opsRes]]int{}
	for _, oc := range m.consumers {
		open[oc.p]++
	}
	for _, d := range m.devices {
		if d.prov == nil {
			continue
		}
		want := open[d.prov]
		if !d.prov.Revoked() {
			want++
		}
		if d.prov.Refs() != want {
			t.Fatalf("%s: provider %s has %d references, model %d", when, d.prov.Name(), d.prov.Refs(), want)
		}
	}
	if _, total := c.Env().Reports(); total != m.oopses {
		kept, _ := c.Env().Reports()
		t.Fatalf("%s: %d reports, the model made %d oopses: %v", when, total, m.oopses, kept)
	}
}

func (m *opsModel) finish() {
	t, c := m.t, m.c
	for _, ds := range m.drivers {
		ds.mode = probeOK
	}
	c.FlushDeferred()
	for j, d := range m.devices {
		if d.registered && m.drivers[j%opsDrivers].registered && d.dev.Driver() == nil {
			// Not on the deferred list (it failed or oopsed, or was
			// unbound): device_attach binds it now.
			if ok, err := c.Attach(d.dev); err != nil || !ok {
				t.Fatalf("finish: %s does not bind: %v", d.dev.Path(), err)
			}
		}
	}
	m.check("finish, all bound")
	for _, oc := range m.consumers {
		if err := oc.c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	m.consumers = nil
	for _, d := range m.devices {
		if d.registered {
			if err := c.UnregisterDevice(d.dev); err != nil {
				t.Fatal(err)
			}
			d.registered = false
		}
		if d.dev != nil && !d.dev.Released() {
			t.Fatalf("finish: %s not released", d.dev.Path())
		}
		if d.prov != nil && !d.prov.Released() {
			t.Fatalf("finish: provider %s not released (refs %d)", d.prov.Name(), d.prov.Refs())
		}
	}
	for _, ds := range m.drivers {
		if ds.registered {
			if err := c.UnregisterDriver(ds.drv); err != nil {
				t.Fatal(err)
			}
			ds.registered = false
		}
	}
	m.check("finish, all gone")
}
