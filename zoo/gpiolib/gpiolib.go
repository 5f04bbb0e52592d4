// Package gpiolib rebuilds the part of the GPIO core (drivers/gpio/
// gpiolib.c, v6.8) that consumers call into a provider's chip through,
// twice: before commit d83cee3d2bb1 ("gpio: protect the pointer to
// gpio_chip in gpio_device with SRCU", Bartosz Golaszewski, 2024) and
// after it, with the kernel library's and package revocable/srcu's
// primitives and the same calls in the same order.
//
// A provider registers a gpio_chip; the core wraps it in a gpio_device
// that lives as long as consumers hold descriptors of it. When the
// provider unbinds, gpiochip_remove sets gdev->chip to NULL and devres
// frees the provider's state, gpio_chip included. Before the fix a
// consumer call read gdev->chip without protection: it could find it
// NULL after checking it, or call through a chip freed meanwhile. After
// it, gdev->chip is an SRCU-protected pointer: every call dereferences it
// inside an SRCU read section and gets -ENODEV on NULL, and removal
// clears it, then waits for the readers (synchronize_srcu) before the
// chip can go.
package gpiolib

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable/srcu"
	"github.com/drvsim/drvsim/trace"
)

// Kind is the trace kind of the GPIO core's events.
const Kind trace.Kind = "gpio"

// Variant is the GPIO core before or after the fix.
type Variant int

// The variants.
const (
	// Before: consumers read gdev->chip unprotected.
	Before Variant = iota
	// After: gdev->chip is SRCU-protected.
	After
)

// Chip is struct gpio_chip: what a provider registers. It lives in the
// provider's state (Mem): the provider frees it when it unbinds.
type Chip struct {
	Label string
	Ngpio int
	// Get reads line offset (gc->get).
	Get func(gc *Chip, offset int) (int, error)
	// Mem is the provider's allocation the chip is embedded in.
	Mem *env.Object

	gdev *gpioDevice
	data any
}

// Data is gpiochip_get_data.
func (gc *Chip) Data() any { return gc.data }

// gpioDevice is struct gpio_device: the core's side of a chip, reference
// counted, with its descriptors.
type gpioDevice struct {
	lib   *Lib
	obj   *env.Object // kfree'd by gpiodev_release
	kref  *kernel.Kref
	id    int
	label string
	descs []*Desc

	mu   sync.Mutex // Before: the plain pointer; After: rcu_assign_pointer
	chip *Chip      // __rcu after the fix

	srcu *srcu.Domain // After: gdev->srcu
	slot *srcu.Slot
}

// Desc is struct gpio_desc: one line of a gpio_device.
type Desc struct {
	gdev      *gpioDevice
	offset    int
	requested bool
	label     string
}

// Lib is the GPIO core of one machine: the list of gpio_devices and its
// lock, the machine's lookup table.
type Lib struct {
	v Variant
	e *env.Env

	mu      sync.Mutex // gpio_devices_lock
	devices []*gpioDevice
	nextID  int
	lookups map[string]lookup // con_id -> chip label and line (gpiod_lookup_table)
}

type lookup struct {
	label  string
	offset int
}

// New returns the GPIO core of variant v in h's machine.
func New(h env.Host, v Variant) *Lib {
	return &Lib{v: v, e: env.Of(h), lookups: map[string]lookup{}}
}

func (l *Lib) emit(dev, fn, msg string) {
	l.e.Log().Emit(trace.Event{Kind: Kind, Dev: dev, Func: fn, Msg: msg})
}

// AddLookup is gpiod_add_lookup_table with one entry: the consumer
// function conID is line offset of the chip labelled label.
func (l *Lib) AddLookup(conID, label string, offset int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lookups[conID] = lookup{label, offset}
}

// gdevChip reads gdev->chip (an unprotected load before the fix,
// srcu_dereference after it).
func (g *gpioDevice) gdevChip() *Chip {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.chip
}

// AddChip is gpiochip_add_data: a gpio_device for gc with ngpio
// descriptors, on the list of devices.
func (l *Lib) AddChip(gc *Chip, data any) error {
	if gc == nil || gc.Ngpio <= 0 || gc.Get == nil || gc.Mem == nil {
		return fmt.Errorf("gpiochip_add_data: %w", device.ErrInvalid)
	}
	l.mu.Lock()
	id := l.nextID
	l.nextID++
	l.mu.Unlock()
	g := &gpioDevice{lib: l, id: id, label: gc.Label, chip: gc,
		obj: l.e.Memory().Alloc(fmt.Sprintf("struct gpio_device gpiochip%d", id))}
	g.kref = kernel.NewKref(l.e, fmt.Sprintf("gpiochip%d", id)).EmbedIn(g.obj)
	if l.v == After {
		g.srcu = srcu.New(l.e, fmt.Sprintf("gpiochip%d srcu", id))
		g.slot = g.srcu.NewSlot()
	}
	for i := 0; i < gc.Ngpio; i++ {
		g.descs = append(g.descs, &Desc{gdev: g, offset: i})
	}
	gc.gdev, gc.data = g, data
	l.mu.Lock()
	l.devices = append(l.devices, g)
	l.mu.Unlock()
	l.emit(g.name(), "gpiochip_add_data", fmt.Sprintf("registered GPIOs 0 to %d on %s", gc.Ngpio-1, gc.Label))
	return nil
}

func (g *gpioDevice) name() string { return fmt.Sprintf("gpiochip%d", g.id) }

// DevmAddChip is devm_gpiochip_add_data: gpiochip_remove runs at the
// provider's unbind, before the devres registered earlier (the memory
// the chip lives in).
func (l *Lib) DevmAddChip(dev *device.Device, gc *Chip, data any) error {
	if err := l.AddChip(gc, data); err != nil {
		return err
	}
	_, err := dev.Devres().AddOrReset("devm_gpio_chip_release "+gc.Label, func() { l.RemoveChip(gc) })
	return err
}

// RemoveChip is gpiochip_remove, in the variant's way: the chip pointer
// is cleared (after the fix, then the SRCU readers waited for), the
// device leaves the list, and the chip's reference on it is dropped.
func (l *Lib) RemoveChip(gc *Chip) {
	g := gc.gdev
	g.obj.Access("gpiochip_remove: gdev->chip = NULL")
	g.mu.Lock()
	g.chip = nil // "Numb the device, cancelling all outstanding operations"
	g.mu.Unlock()
	if l.v == After {
		g.srcu.Synchronize()
	}
	requested := false
	for _, d := range g.descs {
		requested = requested || d.requested
	}
	if requested {
		l.emit(g.name(), "gpiochip_remove", "REMOVING GPIOCHIP WITH GPIOS STILL REQUESTED")
	}
	l.mu.Lock()
	for i, x := range l.devices {
		if x == g {
			l.devices = append(l.devices[:i:i], l.devices[i+1:]...)
			break
		}
	}
	l.mu.Unlock()
	l.emit(g.name(), "gpiochip_remove", "")
	g.put()
}

// put is gpio_device_put; the last reference runs gpiodev_release.
func (g *gpioDevice) put() {
	g.kref.Put(func() {
		g.lib.emit(g.name(), "gpiodev_release", "")
		if g.slot != nil {
			g.slot.Close()
		}
		g.obj.Free()
	})
}

// Get is gpiod_get: the descriptor the lookup table names for conID,
// requested for dev, with a reference on its gpio_device.
func (l *Lib) Get(dev *device.Device, conID string) (*Desc, error) {
	l.mu.Lock()
	lk, ok := l.lookups[conID]
	var g *gpioDevice
	for _, x := range l.devices {
		if ok && x.label == lk.label {
			g = x
		}
	}
	l.mu.Unlock()
	if g == nil {
		return nil, fmt.Errorf("gpiod_get %s %s: %w", dev.Name(), conID, device.ErrProbeDefer)
	}
	if lk.offset >= len(g.descs) {
		return nil, fmt.Errorf("gpiod_get %s %s: %w", dev.Name(), conID, device.ErrInvalid)
	}
	d := g.descs[lk.offset]
	g.kref.Get() // gpio_device_get
	d.requested, d.label = true, conID
	l.emit(g.name(), "gpiod_request", fmt.Sprintf("line %d for %s %s", d.offset, dev.Name(), conID))
	return d, nil
}

// Put is gpiod_put: the line is freed and the gpio_device reference
// dropped.
func (d *Desc) Put() {
	g := d.gdev
	g.obj.Access("gpiod_free: desc->gdev")
	d.requested = false
	g.lib.emit(g.name(), "gpiod_free", fmt.Sprintf("line %d", d.offset))
	g.put()
}

// GetValue is gpiod_get_value (for a line that cannot sleep), in the
// variant's way.
func (d *Desc) GetValue() (int, error) {
	g := d.gdev
	if g.lib.v == Before {
		// VALIDATE_DESC(desc)
		g.obj.Access("validate_desc: desc->gdev->chip")
		if g.gdevChip() == nil {
			g.lib.emit(g.name(), "validate_desc", "gpiod_get_value: backing chip is gone")
			return 0, nil
		}
		// WARN_ON(desc->gdev->chip->can_sleep)
		gc := g.gdevChip()
		gc.Mem.Access("gpiod_get_value: desc->gdev->chip->can_sleep")
		return d.getRawValueCommit()
	}
	return d.getRawValueCommit()
}

// getRawValueCommit is gpiod_get_raw_value_commit.
func (d *Desc) getRawValueCommit() (int, error) {
	g := d.gdev
	if g.lib.v == Before {
		gc := g.gdevChip()
		gc.Mem.Access("gpio_chip_get_value: gc->get") // gc may be NULL: an oops
		v, err := gc.Get(gc, d.offset)
		return boolValue(v), err
	}
	// CLASS(gpio_chip_guard, guard)(desc)
	guard := g.slot.Lock()
	defer guard.Unlock()
	gc := g.gdevChip() // srcu_dereference(gdev->chip, &gdev->srcu)
	if gc == nil {
		return 0, fmt.Errorf("gpiod_get_raw_value_commit %s: %w", g.name(), device.ErrNoDevice)
	}
	gc.Mem.Access("gpio_chip_get_value: gc->get")
	v, err := gc.Get(gc, d.offset)
	return boolValue(v), err
}

func boolValue(v int) int {
	if v != 0 {
		return 1
	}
	return 0
}
