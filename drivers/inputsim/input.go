// Package inputsim models the Linux input core (drivers/input/input.c) at
// the size a driver's lifecycle needs: input devices allocated, registered
// as devices of the "input" class (input_allocate_device,
// input_register_device), reporting events (input_event, input_report_key,
// input_sync), opened by handles (an evdev open from user space), and
// unregistered (input_unregister_device), after which the struct input_dev
// is freed with its last reference (input_dev_release): at once when no
// handle holds it. A Dev is a simulated allocation of the machine's
// memory arena, so an event reported on a freed device is KASAN's
// use-after-free.
package inputsim

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// Kind is the trace kind of the input core's events.
const Kind trace.Kind = "input"

// ClassName is the input class (/sys/class/input).
const ClassName = "input"

// Event types and codes the models use (EV_*, KEY_*).
const (
	EvSyn = 0x00
	EvKey = 0x01
)

// ErrInvalid is -EINVAL: a device registered twice, with no parent
// machine, or unregistered without being registered.
var ErrInvalid = device.ErrInvalid

// Event is one reported event.
type Event struct{ Type, Code, Value int }

// Dev is struct input_dev.
type Dev struct {
	// Name is the device's name (input_dev->name).
	Name string

	e   *env.Env
	obj *env.Object
	dev *device.Device

	mu         sync.Mutex
	registered bool
	events     []Event
	handles    int
}

type machine struct {
	mu     sync.Mutex
	class  *chardev.Class
	nextID int
}

type machineKey struct{}

func machineOf(e *env.Env) *machine {
	return e.Local(machineKey{}, func() any { return &machine{} }).(*machine)
}

// Allocate is input_allocate_device: a device of h's machine, not yet
// registered (free it with Free, or register it).
func Allocate(h env.Host) *Dev {
	e := env.Of(h)
	return &Dev{e: e, obj: e.Memory().Alloc("struct input_dev")}
}

// Object returns the device's simulated allocation.
func (d *Dev) Object() *env.Object { return d.obj }

// Dev returns the registered device (&input_dev->dev), nil before
// registration.
func (d *Dev) Dev() *device.Device { return d.dev }

// Register is input_register_device: device "inputN" of the input class,
// below parent.
func (d *Dev) Register(parent *device.Device) error {
	d.obj.Access("input_register_device: dev")
	core := bus.CoreOf(parent)
	if core == nil {
		return fmt.Errorf("input_register_device %s: parent on no driver core: %w", d.Name, ErrInvalid)
	}
	d.mu.Lock()
	if d.registered {
		d.mu.Unlock()
		return fmt.Errorf("input_register_device %s: registered already: %w", d.Name, ErrInvalid)
	}
	d.registered = true
	d.mu.Unlock()
	m := machineOf(d.e)
	m.mu.Lock()
	if m.class == nil {
		c, err := chardev.CreateClass(core, ClassName)
		if err != nil {
			m.mu.Unlock()
			return err
		}
		m.class = c
	}
	class, id := m.class, m.nextID
	m.nextID++
	m.mu.Unlock()
	d.dev = device.New(fmt.Sprintf("input%d", id), device.WithClass(class), device.WithParent(parent),
		device.WithRelease(func(*device.Device) { d.release() }))
	if err := core.InitializeDevice(d.dev); err != nil {
		return err
	}
	if err := core.AddDevice(d.dev); err != nil {
		_ = d.dev.Put()
		return err
	}
	d.emit("input_register_device", fmt.Sprintf("%q as %s", d.Name, d.dev.Path()))
	return nil
}

func (d *Dev) emit(fn, msg string) {
	path := ""
	if d.dev != nil {
		path = d.dev.Path()
	}
	d.e.Log().Emit(trace.Event{Kind: Kind, Dev: path, Func: fn, Msg: msg})
}

// release is input_dev_release: kfree(dev).
func (d *Dev) release() {
	d.emit("input_dev_release", "")
	d.obj.Free()
}

// Unregister is input_unregister_device: the handles are disconnected
// and the device unregistered; its struct is freed with its last
// reference, at once unless a handle holds it open.
func (d *Dev) Unregister() {
	d.obj.Access("input_unregister_device: dev")
	d.mu.Lock()
	was := d.registered
	d.registered = false
	d.mu.Unlock()
	if !was {
		d.e.Log().Emit(trace.Event{Kind: trace.Warn, Func: "input_unregister_device", Msg: d.Name + ": not registered"})
		return
	}
	d.emit("input_unregister_device", "")
	if err := bus.CoreOf(d.dev).UnregisterDevice(d.dev); err != nil {
		d.emit("input_unregister_device", device.ErrnoName(err))
	}
}

// Free is input_free_device, for a device never registered.
func (d *Dev) Free() { d.obj.Free() }

// Event is input_event: one event, recorded on the device.
func (d *Dev) Event(typ, code, value int) {
	d.obj.Access(fmt.Sprintf("input_event: type %d code %d", typ, code))
	d.mu.Lock()
	d.events = append(d.events, Event{typ, code, value})
	d.mu.Unlock()
}

// ReportKey is input_report_key.
func (d *Dev) ReportKey(code, value int) {
	v := 0
	if value != 0 {
		v = 1
	}
	d.Event(EvKey, code, v)
}

// Sync is input_sync.
func (d *Dev) Sync() { d.Event(EvSyn, 0, 0) }

// Events returns the events reported so far.
func (d *Dev) Events() []Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Event(nil), d.events...)
}

// Open is an evdev open from user space: a handle holding a reference on
// the device until Close.
func (d *Dev) Open() {
	d.obj.Access("evdev_open: input_dev")
	d.dev.Get()
	d.mu.Lock()
	d.handles++
	d.mu.Unlock()
}

// Close drops the handle's reference.
func (d *Dev) Close() {
	d.mu.Lock()
	d.handles--
	d.mu.Unlock()
	_ = d.dev.Put()
}
